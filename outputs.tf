output "lambda_function_names" {
  description = "Function name of each handler, keyed by handler (e.g. LexFulfillmentHandler)."
  value       = { for k, m in module.lambda_function : k => m.function_name }
}

output "lambda_function_arns" {
  description = "Unqualified function ARN of each handler."
  value       = { for k, m in module.lambda_function : k => m.function_arn }
}

output "lambda_published_versions" {
  description = "Latest published version of each handler (what this apply published, or the existing one when nothing changed)."
  value       = { for k, m in module.lambda_function : k => m.published_version }
}

output "lambda_alias_arns" {
  description = "ARN of each handler's `live` alias: the qualified ARN Lex and Step Functions invoke."
  value       = { for k, m in module.lambda_function : k => m.alias_arn }
}

output "lambda_alias_versions" {
  description = "The version each `live` alias points at; differs from lambda_published_versions while a rollback pin is set."
  value       = { for k, m in module.lambda_function : k => m.alias_function_version }
}

output "lambda_provisioned_concurrent_executions" {
  description = "Provisioned concurrency configured on each `live` alias (0 means none; LexFulfillmentHandler shows 0 while Application Auto Scaling owns its count, see lex_provisioned_concurrency_autoscaling)."
  value       = { for k, m in module.lambda_function : k => m.provisioned_concurrent_executions }
}

output "lambda_role_arns" {
  description = "Execution role ARN of each handler."
  value       = { for k, m in module.lambda_function : k => m.role_arn }
}

output "lambda_log_group_names" {
  description = "CloudWatch Logs group of each handler."
  value       = { for k, m in module.lambda_function : k => m.log_group_name }
}

output "lex_bot_alias_arn" {
  description = "ARN of the Lex V2 bot alias whose code hook this module manages, or null when var.lex is null."
  value       = var.lex == null ? null : module.lex_code_hook[0].bot_alias_arn
}

output "lex_code_hook_lambda_arn" {
  description = "The Lambda ARN the bot alias's managed locales call, as AWS reports it after the apply (Cloud Control GetResource), or null when var.lex is null or the locales differ."
  value       = var.lex == null ? null : module.lex_code_hook[0].code_hook_lambda_arn
}

output "state_machine_arn" {
  description = "ARN of the AtlasEngineWorkflow state machine, or null when the workflow is disabled."
  value       = var.workflow.enabled ? module.workflow[0].state_machine_arn : null
}

output "state_machine_name" {
  description = "Name of the AtlasEngineWorkflow state machine, or null when the workflow is disabled."
  value       = var.workflow.enabled ? module.workflow[0].state_machine_name : null
}

output "dashboard_name" {
  description = "Name of the CloudWatch dashboard, or null when it is disabled."
  value       = module.monitoring.dashboard_name
}

output "alarm_arns" {
  description = "ARNs of the CloudWatch alarms, keyed by alarm purpose."
  value       = module.monitoring.alarm_arns
}

output "lex_provisioned_concurrency_autoscaling" {
  description = "Application Auto Scaling of LexFulfillmentHandler's `live` alias: resource_id, min_capacity, max_capacity, target_utilization, policy_arn and scheduled action names; null when disabled."
  value = var.provisioned_concurrency_autoscaling.enabled ? {
    resource_id        = aws_appautoscaling_target.lex_provisioned_concurrency[0].resource_id
    min_capacity       = aws_appautoscaling_target.lex_provisioned_concurrency[0].min_capacity
    max_capacity       = aws_appautoscaling_target.lex_provisioned_concurrency[0].max_capacity
    target_utilization = var.provisioned_concurrency_autoscaling.target_utilization
    policy_arn         = aws_appautoscaling_policy.lex_provisioned_concurrency[0].arn
    scheduled_actions  = sort(keys(aws_appautoscaling_scheduled_action.lex_provisioned_concurrency))
  } : null
}

output "post_deploy_validation" {
  description = "Everything `python validate.py` reads after an apply (function names, versions, provisioned concurrency, memory, code hook, state machine, Bedrock model, the handlers' EMF metrics namespace); pass it through the root."
  value = {
    lambda_function_names                    = { for k, m in module.lambda_function : k => m.function_name }
    lambda_published_versions                = { for k, m in module.lambda_function : k => m.published_version }
    lambda_alias_versions                    = { for k, m in module.lambda_function : k => m.alias_function_version }
    lambda_alias_name                        = "live"
    lambda_provisioned_concurrent_executions = { for k, m in module.lambda_function : k => m.provisioned_concurrent_executions }
    lambda_memory_sizes                      = { for k, f in local.functions : k => f.memory_size }
    lex_bot_alias_arn                        = var.lex == null ? null : module.lex_code_hook[0].bot_alias_arn
    lex_locale_ids                           = var.lex == null ? [] : var.lex.locale_ids
    lex_code_hook_lambda_arn                 = var.lex == null ? null : module.lex_code_hook[0].code_hook_wanted_lambda_arn
    state_machine_arn                        = var.workflow.enabled ? module.workflow[0].state_machine_arn : null
    bedrock_model_id                         = var.bedrock.model_id
    metrics_namespace                        = var.metrics_namespace
  }
}

output "lex_code_hook_drift" {
  description = "Managed locales whose code hook, as AWS reports it after the apply, is not LexFulfillmentHandler's live alias, e.g. [\"en_US: arn:...:function:LexFulfillmentHandler\"]; empty when all are (drift found at plan time shows as terraform_data.code_hook being replaced, and the apply repairs it); null when var.lex is null."
  value       = var.lex == null ? null : module.lex_code_hook[0].code_hook_drift
}

output "lex_code_hook_on_removal" {
  description = "What removing the Lex code hook (lex = null, terraform destroy, another bot_alias_id) does to each managed locale: the Lambda ARN it gets back, \"no code hook\" or \"left as it is\"; null when var.lex is null."
  value       = var.lex == null ? null : module.lex_code_hook[0].code_hook_on_removal
}
