output "function_name" {
  description = "Name of the Lambda function."
  value       = aws_lambda_function.this.function_name
}

output "function_arn" {
  description = "Unqualified ARN of the function (arn:aws:lambda:REGION:ACCOUNT:function:NAME). Invoke the alias ARN instead."
  value       = aws_lambda_function.this.arn
}

output "published_version" {
  description = "Latest published version of the function: the one this apply published, or the existing one when nothing changed."
  value       = aws_lambda_function.this.version
}

output "alias_name" {
  description = "Name of the alias callers invoke (live)."
  value       = aws_lambda_alias.live.name
}

output "alias_arn" {
  description = "Qualified ARN of the alias (arn:aws:lambda:REGION:ACCOUNT:function:NAME:ALIAS): what Lex's code hook and Step Functions tasks invoke. Unchanged by a rollback pin."
  value       = aws_lambda_alias.live.arn
}

output "alias_invoke_arn" {
  description = "ARN for API Gateway to invoke the alias (apigateway .../functions/ALIAS_ARN/invocations)."
  value       = aws_lambda_alias.live.invoke_arn
}

output "alias_function_version" {
  description = "Published version the alias points at; differs from published_version while alias_function_version pins a rollback."
  value       = aws_lambda_alias.live.function_version
}

output "provisioned_concurrent_executions" {
  description = "Provisioned concurrency configured on the alias; 0 means none."
  value       = try(aws_lambda_provisioned_concurrency_config.live[0].provisioned_concurrent_executions, 0)
}

output "role_arn" {
  description = "ARN of the function's execution role."
  value       = aws_iam_role.lambda.arn
}

output "role_name" {
  description = "Name of the function's execution role, for attaching further policies from outside the module."
  value       = aws_iam_role.lambda.name
}

output "log_group_name" {
  description = "Name of the function's CloudWatch Logs group (/aws/lambda/<function_name>)."
  value       = aws_cloudwatch_log_group.lambda.name
}

output "log_group_arn" {
  description = "ARN of the function's CloudWatch Logs group, without the \":*\" suffix."
  value       = aws_cloudwatch_log_group.lambda.arn
}

output "function_configuration" {
  description = "The function's settings as planned on the resource, for checks and audits: memory_size (MB), timeout (s), runtime, architecture, handler, filename, source_code_hash, publish, tracing_mode, snap_start (bool), reserved_concurrent_executions, log_format (null when no LoggingConfig is sent), log_group and environment_variables."
  value = {
    memory_size                    = aws_lambda_function.this.memory_size
    timeout                        = aws_lambda_function.this.timeout
    runtime                        = aws_lambda_function.this.runtime
    architecture                   = one(aws_lambda_function.this.architectures)
    handler                        = aws_lambda_function.this.handler
    filename                       = aws_lambda_function.this.filename
    source_code_hash               = aws_lambda_function.this.source_code_hash
    publish                        = aws_lambda_function.this.publish
    tracing_mode                   = one(aws_lambda_function.this.tracing_config[*].mode)
    snap_start                     = length(aws_lambda_function.this.snap_start) > 0
    reserved_concurrent_executions = aws_lambda_function.this.reserved_concurrent_executions
    log_format                     = one(aws_lambda_function.this.logging_config[*].log_format)
    log_group                      = one(aws_lambda_function.this.logging_config[*].log_group)
    environment_variables          = try(aws_lambda_function.this.environment[0].variables, {})
  }
}

output "provisioned_concurrency_config" {
  description = "The provisioned concurrency configuration ({ function_name, qualifier, provisioned_concurrent_executions }), whose qualifier is the alias name; null when provisioned_concurrent_executions is 0."
  value = one([for pc in aws_lambda_provisioned_concurrency_config.live : {
    function_name                     = pc.function_name
    qualifier                         = pc.qualifier
    provisioned_concurrent_executions = pc.provisioned_concurrent_executions
  }])
}

output "role_policy_statements" {
  description = "The execution role's inline policy as statements keyed by Sid, each { actions, resources }: the function's whole permission set."
  value = {
    for s in data.aws_iam_policy_document.lambda.statement : s.sid => {
      actions   = sort(tolist(s.actions))
      resources = sort(tolist(s.resources))
    }
  }
}

output "ready_alias_arn" {
  description = "The alias ARN (as alias_arn), known only once the deploy waits are over: no routing weights, and provisioned concurrency READY. Give this, not alias_arn, to whatever sends callers to the alias (the Lex code hook), so that it switches only when warm environments are there."
  value       = aws_lambda_alias.live.arn
  depends_on  = [terraform_data.provisioned_concurrency_ready]
}

output "provisioned_concurrency_ready_id" {
  description = "Id of the last READY wait (changes each time the apply waited for READY); null without provisioned concurrency. For depends_on-style ordering outside the module."
  value       = one(terraform_data.provisioned_concurrency_ready[*].id)
}
