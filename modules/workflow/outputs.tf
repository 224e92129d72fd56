output "state_machine_arn" {
  description = "ARN of the state machine."
  value       = aws_sfn_state_machine.this.arn
}

output "state_machine_name" {
  description = "Name of the state machine."
  value       = aws_sfn_state_machine.this.name
}

output "role_arn" {
  description = "ARN of the IAM role the state machine runs as."
  value       = aws_iam_role.sfn.arn
}

output "log_group_name" {
  description = "CloudWatch Logs group that receives the execution events."
  value       = aws_cloudwatch_log_group.this.name
}

output "definition" {
  description = "The rendered Amazon States Language definition (JSON) given to the state machine."
  value       = local.definition
}
