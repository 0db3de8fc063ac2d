"""The genai-platform CrossGuard policy pack (`pulumi preview --policy-pack policies`).

Importing this package is side-effect free: only `policies/__main__.py` constructs the
`PolicyPack` (which starts a gRPC server). The rules live in `genai_policies`, the offline
runner in `offline`.
"""
