output "lambda_function_names" {
  description = "Function name of each handler, keyed by handler."
  value       = module.atlas_engine.lambda_function_names
}

output "lambda_published_versions" {
  description = "Latest published version of each handler."
  value       = module.atlas_engine.lambda_published_versions
}

output "lambda_alias_arns" {
  description = "ARN of each handler's live alias."
  value       = module.atlas_engine.lambda_alias_arns
}

output "lambda_alias_versions" {
  description = "The version each live alias points at."
  value       = module.atlas_engine.lambda_alias_versions
}

output "lex_bot_alias_arn" {
  description = "ARN of the Lex V2 bot alias whose code hook the module manages."
  value       = module.atlas_engine.lex_bot_alias_arn
}

output "lex_code_hook_lambda_arn" {
  description = "The qualified Lambda ARN set as the bot alias's code hook."
  value       = module.atlas_engine.lex_code_hook_lambda_arn
}

output "lex_code_hook_drift" {
  description = "Locales whose code hook, as AWS reports it after the apply, is not the live alias (empty when all are)."
  value       = module.atlas_engine.lex_code_hook_drift
}

output "lex_code_hook_on_removal" {
  description = "What terraform destroy (or lex = null) puts back on each locale of the bot alias."
  value       = module.atlas_engine.lex_code_hook_on_removal
}

output "state_machine_arn" {
  description = "ARN of the AtlasEngineWorkflow state machine."
  value       = module.atlas_engine.state_machine_arn
}

output "dashboard_name" {
  description = "Name of the CloudWatch dashboard."
  value       = module.atlas_engine.dashboard_name
}

output "alarm_arns" {
  description = "ARNs of the CloudWatch alarms, keyed by purpose."
  value       = module.atlas_engine.alarm_arns
}

output "scenario_table_name" {
  description = "Name of the scenario table created for the local stack."
  value       = aws_dynamodb_table.scenarios.name
}

output "salesforce_secret_arn" {
  description = "ARN of the placeholder Salesforce secret created for the local stack."
  value       = aws_secretsmanager_secret.salesforce.arn
}

output "post_deploy_validation" {
  description = "What `python validate.py --chdir <this root>` reads after an apply."
  value       = module.atlas_engine.post_deploy_validation
}
