output "state_machine_arn" {
  description = "ARN of the state machine."
  value       = aws_sfn_state_machine.this.arn
}

output "state_machine_name" {
  description = "Name of the state machine."
  value       = aws_sfn_state_machine.this.name
}

output "state_machine_tracing_enabled" {
  description = "Whether X-Ray tracing is enabled on the state machine (always true)."
  value       = aws_sfn_state_machine.this.tracing_configuration[0].enabled
}

output "state_machine_logging_configuration" {
  description = "The state machine's logging configuration: level, include_execution_data and log_destination (the log group ARN with :*)."
  value = {
    level                  = aws_sfn_state_machine.this.logging_configuration[0].level
    include_execution_data = aws_sfn_state_machine.this.logging_configuration[0].include_execution_data
    log_destination        = aws_sfn_state_machine.this.logging_configuration[0].log_destination
  }
}

output "role_arn" {
  description = "ARN of the IAM role the state machine runs as."
  value       = aws_iam_role.sfn.arn
}

output "role_lambda_invoke_arns" {
  description = "The function ARNs the role may call with lambda:InvokeFunction: exactly the four alias ARNs, sorted."
  value       = local.lambda_invoke_arns
}

output "log_group_name" {
  description = "CloudWatch Logs group that receives the execution events."
  value       = aws_cloudwatch_log_group.this.name
}

output "definition" {
  description = "The rendered Amazon States Language definition (JSON) given to the state machine."
  value       = local.definition
}
