"""Local AWS for `make run` and tests/e2e: moto server with the Lex V2 fixture, and Terraform driven by python-terraform.

Modules:
    emulator        MotoServer: moto on 127.0.0.1 at a free port, waited for, always stopped.
    moto_launcher   the process MotoServer runs: moto with Lex V2, Step Functions and Lambda made closer to AWS.
    cloudcontrol    Cloud Control GetResource for AWS::Lex::BotAlias, patched into moto server by moto_launcher.
    fixtures        what already exists in a real account: the Lex V2 bot and its "Production" alias.
    terraform_cli   TerraformRunner: the python-terraform 0.10.1 adapter (its quirks worked around).
    errors          LocalRunError and its subclasses.

Named local_aws, not localstack, to avoid confusion with the LocalStack product: this is moto.
"""
