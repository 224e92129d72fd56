# Development: the module with one provisioned instance on the Lex code hook, 14-day logs, optional alarm topic.
# Names get the "dev-" prefix so dev can share an account with prod. Copy this folder, set terraform.tfvars
# (see terraform.tfvars.example), then: python build.py && terraform plan -out=tfplan && terraform apply tfplan

locals {
  name_prefix = var.name_prefix != null ? var.name_prefix : "${var.environment}-"

  environment_functions = {
    LexFulfillmentHandler = { provisioned_concurrent_executions = var.lex_provisioned_concurrent_executions }
  }

  # var.functions on top of this environment's settings; unset (null) fields keep the environment's value.
  functions = {
    for name in setunion(keys(local.environment_functions), keys(var.functions)) : name => merge(
      try(local.environment_functions[name], {}),
      { for k, v in try(var.functions[name], {}) : k => v if v != null },
    )
  }
}

module "atlas_engine" {
  source = "../../"
  # Outside this repository, pin the module: source = "git::https://github.com/<your-org>/atlas-engine-phase1.git?ref=<release tag>"

  name_prefix   = local.name_prefix
  manifest_path = var.manifest_path
  functions     = local.functions

  salesforce_secret_arn = var.salesforce_secret_arn
  scenario_table_arn    = var.scenario_table_arn
  connect               = var.connect

  lex                    = var.lex
  lex_code_hook_python   = var.lex_code_hook_python
  lex_code_hook_role_arn = var.assume_role_arn # the provider's assume_role does not reach the code hook script

  log_retention_in_days = var.log_retention_in_days
  kms_key_arn           = var.kms_key_arn
  alarms = {
    sns_topic_arn = var.alarm_sns_topic_arn
  }
  tags = var.tags
}

# Rollback without a redeploy: pin the live alias to an earlier published version in terraform.tfvars,
#   functions = { LexFulfillmentHandler = { alias_function_version = "28" } }
# then plan and apply. Only the alias moves; the code, provisioned concurrency (it follows the alias) and the
# Lex code hook (it calls the alias ARN) stay. Remove the line to follow the newest version again.

# Adopting the functions that already exist instead of creating new ones (Terraform >= 1.5). Set
# name_prefix = "" so the names match, uncomment one block per function, and read the plan before applying:
# the module then updates them in place (new execution role, alias `live`, tracing, environment).
#
# import {
#   to = module.atlas_engine.module.lambda_function["LexFulfillmentHandler"].aws_lambda_function.this
#   id = "LexFulfillmentHandler"
# }
#
# import {
#   to = module.atlas_engine.module.lambda_function["LexFulfillmentHandler"].aws_cloudwatch_log_group.lambda
#   id = "/aws/lambda/LexFulfillmentHandler"
# }
#
# The same two blocks for GenerateDynamicScenarioHandler, CreateLeadHandler, InvokeOutboundCallHandler and
# UpdateLeadHandler. Provisioned concurrency that sits on a version (e.g. LexFulfillmentHandler:28) is not
# adopted: the module configures it on the alias, after which the old one can be deleted with
# `aws lambda delete-provisioned-concurrency-config --function-name LexFulfillmentHandler --qualifier 28`.
