"""genai-platform CrossGuard rules, importable without starting a policy server.

`pack.policies()` is the rule list; `policies/__main__.py` hands it to `PolicyPack`, and
`policies/offline.py` runs it against an offline `StackRun`. Modules use relative imports so the
package works both as `genai_policies` (inside the Pulumi CLI's policy process, whose working
directory is `policies/`) and as `policies.genai_policies` (tests, offline runner).
"""
