# The local stack: the module applied to moto server. scripts/local_run.py (`make run`) starts moto, creates the
# Lex V2 bot and alias that "already exist" in a real account, and runs this root with fresh state each time.

locals {
  function_names = [
    "LexFulfillmentHandler", "GenerateDynamicScenarioHandler", "CreateLeadHandler",
    "InvokeOutboundCallHandler", "UpdateLeadHandler",
  ]

  # moto ignores SnapStart, so it is off for every function. Provisioned concurrency keeps the module's
  # defaults (1 on LexFulfillmentHandler): the local AWS emulates it (scripts/local_aws/
  # lambda_provisioned_concurrency.py), allocation delay and transient alias weights included.
  functions = {
    for name in local.function_names : name => merge(
      { snap_start = false },
      try(var.functions[name], {}),
    )
  }
}

################################################################################
# What a real account already has: the scenario table and the Salesforce secret.
# Here they are created too, to show their shape; dev and prod take their ARNs.
################################################################################

resource "aws_dynamodb_table" "scenarios" {
  #checkov:skip=CKV_AWS_119:Local emulator fixture; the real table is the user's and takes its own KMS key.
  name         = "${var.name_prefix}AtlasEngineScenarios"
  billing_mode = "PAY_PER_REQUEST"
  hash_key     = "PK"
  range_key    = "SK"

  attribute {
    name = "PK"
    type = "S"
  }

  attribute {
    name = "SK"
    type = "S"
  }

  ttl {
    attribute_name = "ExpiresAt"
    enabled        = true
  }

  point_in_time_recovery {
    enabled = true
  }
}

resource "aws_secretsmanager_secret" "salesforce" {
  #checkov:skip=CKV_AWS_149:Local emulator fixture holding placeholders; the real secret is the user's and takes its own KMS key.
  #checkov:skip=CKV2_AWS_57:Local emulator fixture; rotation of the real secret belongs to its owner.
  name                    = "${var.name_prefix}atlas-engine/salesforce"
  description             = "Salesforce connected app JWT bearer credentials (placeholders in the local stack)"
  recovery_window_in_days = 0
}

resource "aws_secretsmanager_secret_version" "salesforce" {
  secret_id = aws_secretsmanager_secret.salesforce.id
  # The shape of docs/contracts.md's Salesforce secret, with placeholders: the local stack never calls Salesforce.
  secret_string = jsonencode({
    client_id   = "local-placeholder-consumer-key"
    username    = "integration@example.com"
    private_key = "placeholder: put the connected app's PEM private key here in a real account"
    is_sandbox  = true
  })
}

################################################################################
# The module
################################################################################

module "atlas_engine" {
  source = "../../"

  name_prefix   = var.name_prefix
  manifest_path = abspath(var.manifest_path)
  functions     = local.functions

  salesforce_secret_arn = aws_secretsmanager_secret.salesforce.arn
  scenario_table_arn    = aws_dynamodb_table.scenarios.arn

  connect = {
    instance_id     = "00000000-0000-4000-8000-000000000001"
    contact_flow_id = "00000000-0000-4000-8000-000000000002"
    queue_id        = "00000000-0000-4000-8000-000000000003"
  }

  lex = {
    bot_id       = var.lex_bot_id
    bot_alias_id = var.lex_bot_alias_id
    locale_ids   = var.lex_locale_ids
  }
  lex_code_hook_python = var.lex_code_hook_python
  # Only the endpoint (for the code hook script and the deploy waits): credentials reach the scripts through the
  # environment terraform runs in
  # (scripts/local_run.py sets AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY to moto's "test").
  lex_code_hook_environment = {
    AWS_ENDPOINT_URL = var.endpoint_url
  }

  log_retention_in_days = 7
  tags = {
    Application = "AtlasEngine"
  }
}
