output "dashboard_name" {
  description = "Name of the CloudWatch dashboard, or null when dashboard_enabled is false."
  value       = var.dashboard_enabled ? aws_cloudwatch_dashboard.this[0].dashboard_name : null
}

output "dashboard_arn" {
  description = "ARN of the CloudWatch dashboard, or null when dashboard_enabled is false."
  value       = var.dashboard_enabled ? aws_cloudwatch_dashboard.this[0].dashboard_arn : null
}

output "dashboard_body" {
  description = "The dashboard body JSON sent to PutDashboard (a string; see CloudWatch's \"Dashboard Body Structure and Syntax\"), or null when dashboard_enabled is false."
  value       = var.dashboard_enabled ? local.dashboard_body : null
}

output "alarm_arns" {
  description = "ARN of each CloudWatch alarm, keyed by the alarm name without the \"<name>-\" prefix, e.g. \"LexFulfillmentHandler-p99-duration\", \"CreateLeadHandler-errors\", \"workflow-executions-failed\". Empty when alarms are disabled."
  value = merge(
    { for a in aws_cloudwatch_metric_alarm.lex_p99_duration : trimprefix(a.alarm_name, "${var.name}-") => a.arn },
    { for a in aws_cloudwatch_metric_alarm.provisioned_concurrency_spillover : trimprefix(a.alarm_name, "${var.name}-") => a.arn },
    { for a in aws_cloudwatch_metric_alarm.errors : trimprefix(a.alarm_name, "${var.name}-") => a.arn },
    { for a in aws_cloudwatch_metric_alarm.throttles : trimprefix(a.alarm_name, "${var.name}-") => a.arn },
    { for a in aws_cloudwatch_metric_alarm.workflow_executions_failed : trimprefix(a.alarm_name, "${var.name}-") => a.arn },
  )
}

output "alarm_names" {
  description = "Name of each CloudWatch alarm, keyed like alarm_arns."
  value = merge(
    { for a in aws_cloudwatch_metric_alarm.lex_p99_duration : trimprefix(a.alarm_name, "${var.name}-") => a.alarm_name },
    { for a in aws_cloudwatch_metric_alarm.provisioned_concurrency_spillover : trimprefix(a.alarm_name, "${var.name}-") => a.alarm_name },
    { for a in aws_cloudwatch_metric_alarm.errors : trimprefix(a.alarm_name, "${var.name}-") => a.alarm_name },
    { for a in aws_cloudwatch_metric_alarm.throttles : trimprefix(a.alarm_name, "${var.name}-") => a.alarm_name },
    { for a in aws_cloudwatch_metric_alarm.workflow_executions_failed : trimprefix(a.alarm_name, "${var.name}-") => a.alarm_name },
  )
}
