"""Post-deploy validation: the seed plan's Deployment Checklist and Success Metrics as one command.

``validate.py`` (the thin CLI beside ``build.py``) runs three parts against a root that has been applied:

1. **Configuration** (:mod:`post_deploy.checks`): each ``live`` alias is on the latest published version (or
   on its rollback pin), provisioned concurrency is READY with allocated equal to requested, every managed
   locale's code hook is the ``live`` alias ARN, tracing is Active on the five functions and the state machine,
   memory is as configured, and the Bedrock model's lifecycle is ACTIVE.
2. **Smoke** (:mod:`post_deploy.smoke`): a greeting and a question invoke LexFulfillmentHandler's ``live``
   alias, and each answer is checked against the Lex V2 response format; optionally N conversations go
   through the Lex V2 runtime (RecognizeText) against the bot alias, timed turn by turn.
3. **Success metrics** (:mod:`post_deploy.metrics`): average and p99 Duration of the alias, cold-start rate,
   Secrets Manager share, spillover, errors, throttles and Bedrock latency over a window, marked against the
   plan's targets.

Everything it needs comes from the root's Terraform outputs (:mod:`post_deploy.outputs`). Each check yields a
:class:`post_deploy.report.Result`; :mod:`post_deploy.report` prints the table or writes JSON.
"""
