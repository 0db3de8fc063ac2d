"""The front door: AWS Load Balancer Controller, one shared ALB with HTTPS routes, TLS, DNS, WAF and SSO."""
