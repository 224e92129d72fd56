output "bot_alias_arn" {
  description = "ARN of the Lex V2 bot alias whose code hook this module manages (arn:PARTITION:lex:REGION:ACCOUNT:bot-alias/BOT_ID/BOT_ALIAS_ID)."
  value       = local.bot_alias_arn
}

output "code_hook_lambda_arn" {
  description = "Qualified Lambda ARN set as the alias's code hook. Read from the terraform_data that runs the script, so whatever uses it waits for the update."
  value       = terraform_data.code_hook.triggers_replace.lambda_arn
}

output "code_hook_locale_ids" {
  description = "Locales whose code hook this module sets."
  value       = terraform_data.code_hook.triggers_replace.locale_ids
}

output "code_hook_interface_version" {
  description = "codeHookInterfaceVersion set on each locale's Lambda code hook."
  value       = terraform_data.code_hook.triggers_replace.code_hook_interface_version
}

output "code_hook_role_arn" {
  description = "IAM role the script assumes to update the bot alias, or null when it runs as the credential chain of the machine running terraform."
  value       = terraform_data.code_hook.triggers_replace.assume_role_arn
}

output "lambda_permission_statement" {
  description = "The resource-based policy statement that lets the bot alias invoke the Lambda alias: statement_id, action, function_name, qualifier, principal and source_arn."
  value = {
    statement_id  = aws_lambda_permission.this.statement_id
    action        = aws_lambda_permission.this.action
    function_name = aws_lambda_permission.this.function_name
    qualifier     = aws_lambda_permission.this.qualifier
    principal     = aws_lambda_permission.this.principal
    source_arn    = aws_lambda_permission.this.source_arn
  }
}
