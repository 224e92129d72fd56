output "bot_alias_arn" {
  description = "ARN of the Lex V2 bot alias whose code hook this module manages (arn:PARTITION:lex:REGION:ACCOUNT:bot-alias/BOT_ID/BOT_ALIAS_ID)."
  value       = local.bot_alias_arn
}

output "code_hook_lambda_arn" {
  description = "The Lambda ARN the bot alias's managed locales call, as AWS reports it (Cloud Control GetResource read after the script ran), or null when they differ or lack one; see code_hook_lambda_arns. Whatever uses it waits for the update."
  value       = length(distinct(values(local.applied_lambda_arns))) == 1 ? values(local.applied_lambda_arns)[0] : null
}

output "code_hook_wanted_lambda_arn" {
  description = "The qualified Lambda ARN this module sets as the managed locales' code hook (lambda_alias_arn, from the terraform_data that runs the script)."
  value       = terraform_data.code_hook.triggers_replace.lambda_arn
}

output "code_hook_lambda_arns" {
  description = "The Lambda ARN each managed locale calls, as AWS reports it after the apply (null: no Lambda code hook)."
  value       = tomap(local.applied_lambda_arns)
}

output "code_hook_drift" {
  description = "Managed locales (and botVersion when bot_version is set) that, as AWS reports them after the apply, are not what this module sets, e.g. [\"en_US: arn:...:function:LexFulfillmentHandler\"]; empty when all are as wanted. Drift found at plan time is shown by the check block code_hook_drift's warning and repaired by the apply."
  value       = tolist(local.applied_drift)
}

output "code_hook_on_removal" {
  description = "What removing the module does to each managed locale: the Lambda ARN it gets back (the code hook recorded at adoption, or code_hook_on_removal's ARN), \"no code hook\" (it had none) or \"left as it is\" (code_hook_on_removal = keep). Only locales still calling lambda_alias_arn at removal are changed."
  value = tomap({
    for k, a in terraform_data.adoption : a.triggers_replace.locale_id => (
      a.input.on_removal == "keep" ? "left as it is" : (
        a.input.on_removal == "restore" ? try(a.triggers_replace.recorded.lambdaARN, "no code hook") : a.input.on_removal
      )
    )
  })
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
