"""The use cases, one module each, that the commands in escala.cli call: the cluster's
specs (specs), update, delete, validate, rolling-update and upgrade; the chat services'
lifecycle; `deploy chat`; `access grant`; and the groundwork before a cluster exists
(the operator IAM user, the state bucket). They compose the layers below (model, kube,
bootstrap, state, cloud, reconcile, api; see the `layers` contract in pyproject.toml)."""
