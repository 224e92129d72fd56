variable "name" {
  type        = string
  description = "Dashboard name and prefix of every alarm name, e.g. \"dev-AtlasEngine\". Distinct names let several environments share one account and region."

  validation {
    # PutDashboard: "Valid characters in the name include '-', '_', and the alphanumerics".
    condition     = can(regex("^[A-Za-z0-9_-]{1,200}$", var.name))
    error_message = "name may hold only letters, digits, '-' and '_' (1-200 characters): it is the CloudWatch dashboard name."
  }
}

variable "functions" {
  type = map(object({
    function_name                     = string
    alias_name                        = string
    log_group_name                    = string
    provisioned_concurrent_executions = optional(number, 0)
    provisioned_concurrency_autoscaling = optional(object({
      min_capacity = number
      max_capacity = number
    }))
  }))
  description = <<-EOT
    The Lambda functions to watch, keyed by handler key (LexFulfillmentHandler, CreateLeadHandler, ...).
    alias_name is the alias Lex and Step Functions invoke (metrics use the dimension Resource = "<function_name>:<alias_name>");
    log_group_name is the function's CloudWatch Logs group (Logs Insights widgets SOURCE it);
    provisioned_concurrent_executions > 0, or provisioned_concurrency_autoscaling set (Application Auto Scaling owns
    the alias's provisioned concurrency between min_capacity and max_capacity), adds the provisioned concurrency
    widgets (utilization, in use and allocated, spillover) and the spillover alarm for that function.
  EOT

  validation {
    condition     = length(var.functions) > 0 && length(var.functions) <= 20
    error_message = "functions must hold between 1 and 20 functions (a Logs Insights query takes at most 50 SOURCE log groups; a dashboard at most 500 widgets)."
  }

  validation {
    condition     = alltrue([for f in values(var.functions) : f.provisioned_concurrent_executions >= 0])
    error_message = "provisioned_concurrent_executions must be 0 (none) or more."
  }

  validation {
    condition = alltrue([for f in values(var.functions) : f.provisioned_concurrency_autoscaling == null ? true : (
      f.provisioned_concurrency_autoscaling.min_capacity >= 0 && f.provisioned_concurrency_autoscaling.min_capacity <= f.provisioned_concurrency_autoscaling.max_capacity
    )])
    error_message = "provisioned_concurrency_autoscaling needs 0 <= min_capacity <= max_capacity."
  }

  validation {
    # Metric dimensions are "FunctionName" and "Resource" = "name:alias"; an empty part makes metrics that never exist.
    condition     = alltrue([for f in values(var.functions) : length(f.function_name) > 0 && length(f.alias_name) > 0 && length(f.log_group_name) > 0])
    error_message = "Each function needs a non-empty function_name, alias_name and log_group_name."
  }
}

variable "lex_function_key" {
  type        = string
  description = "Key in var.functions of the Lex V2 code hook function: the one whose p99 duration is alarmed and whose widgets come first."
  default     = "LexFulfillmentHandler"
}

variable "secrets_function_keys" {
  type        = list(string)
  description = "Keys in var.functions of the functions that read the Salesforce secret through the secrets cache. The \"Secrets Manager reads per invocation\" widget divides their SecretsManagerRead by their own Invocations, so functions that never read a secret do not dilute the Phase 1 success metric (< 5 %). Keys absent from var.functions are ignored."
  default     = ["LexFulfillmentHandler", "CreateLeadHandler", "UpdateLeadHandler"]
}

variable "state_machine_arn" {
  type        = string
  description = "ARN of the AtlasEngineWorkflow state machine for the Step Functions widgets and the failed-executions alarm, or null for none."
  default     = null

  validation {
    condition     = var.state_machine_arn == null ? true : can(regex("^arn:aws[a-z-]*:states:[a-z0-9-]+:[0-9]{12}:stateMachine:[A-Za-z0-9_-]{1,80}$", var.state_machine_arn))
    error_message = "state_machine_arn must be a Step Functions state machine ARN (arn:aws:states:REGION:ACCOUNT:stateMachine:NAME) or null."
  }
}

variable "state_machine_enabled" {
  type        = bool
  description = "Whether a state machine is watched. Pass it when state_machine_arn is only known after apply (a state machine created in the same run), because the number of alarms must be known at plan time. Null means `state_machine_arn != null`."
  default     = null
}

variable "bedrock_model_id" {
  type        = string
  description = "Bedrock model id (or model/inference profile ARN) the handlers invoke; the Bedrock widgets use it as the AWS/Bedrock ModelId dimension. Null leaves the Bedrock widgets out."
  default     = null
}

variable "dashboard_enabled" {
  type        = bool
  description = "Create the CloudWatch dashboard."
  default     = true
}

variable "alarms" {
  type = object({
    enabled                    = optional(bool, true)
    sns_topic_arn              = optional(string)
    average_duration_target_ms = optional(number, 5000)
    p99_duration_target_ms     = optional(number, 7000)
    errors_threshold           = optional(number, 1)
    throttles_threshold        = optional(number, 1)
    period_seconds             = optional(number, 60)
    evaluation_periods         = optional(number, 5)
  })
  description = <<-EOT
    CloudWatch alarms and the Phase 1 latency targets. Targets are milliseconds (average 5000, p99 7000): the p99 one is
    the LexFulfillmentHandler alarm threshold, both are drawn on the dashboard's latency widgets. errors_threshold and
    throttles_threshold are counts per period per function (alarm when >=). Alarm and OK actions go to sns_topic_arn
    when it is set, nowhere otherwise.
  EOT
  default     = {}

  validation {
    condition     = var.alarms.average_duration_target_ms > 0 && var.alarms.p99_duration_target_ms > 0 && var.alarms.average_duration_target_ms <= 900000 && var.alarms.p99_duration_target_ms <= 900000
    error_message = "Duration targets must be positive milliseconds, at most 900000 (Lambda's 15-minute limit)."
  }

  validation {
    # A threshold of 0 with GreaterThanOrEqualToThreshold would be in ALARM whenever the function runs at all.
    condition     = var.alarms.errors_threshold >= 1 && var.alarms.throttles_threshold >= 1
    error_message = "alarms.errors_threshold and alarms.throttles_threshold must be at least 1."
  }

  validation {
    # Lambda, Step Functions and Bedrock publish these metrics once a minute: a 10-30 s period sees most periods
    # empty, so an N-of-N alarm with treat_missing_data = notBreaching can never fire.
    condition     = contains([60, 120, 300, 600, 900, 3600], var.alarms.period_seconds)
    error_message = "alarms.period_seconds must be one of 60, 120, 300, 600, 900 or 3600: Lambda's metrics are per minute, so a period under 60 s leaves most periods without data and the alarms never fire."
  }

  validation {
    # PutMetricAlarm: period * evaluation periods must not exceed one day for periods of a minute or more.
    condition     = var.alarms.evaluation_periods >= 1 && floor(var.alarms.evaluation_periods) == var.alarms.evaluation_periods && var.alarms.period_seconds * var.alarms.evaluation_periods <= 86400
    error_message = "alarms.evaluation_periods must be a whole number of at least 1, and period_seconds * evaluation_periods at most 86400 (one day)."
  }

  validation {
    condition     = var.alarms.sns_topic_arn == null ? true : can(regex("^arn:aws[a-z-]*:sns:[a-z0-9-]+:[0-9]{12}:[A-Za-z0-9_-]{1,256}(\\.fifo)?$", var.alarms.sns_topic_arn))
    error_message = "alarms.sns_topic_arn must be an SNS topic ARN (arn:aws:sns:REGION:ACCOUNT:NAME) or null."
  }
}

variable "tags" {
  type        = map(string)
  description = "Tags added to every alarm (CloudWatch dashboards take no tags)."
  default     = {}
}

variable "metrics_namespace" {
  type        = string
  description = "CloudWatch namespace of the handlers' Embedded Metric Format metrics (METRICS_NAMESPACE; lambda_src/atlas_shared/metrics.py): ColdStart, SecretsManagerRead, ScenarioLookup, BedrockLatency, TurnDuration, ... The cold-start rate, Secrets Manager share, scenario cache hit rate, handler Bedrock latency and turn duration widgets, and the Secrets Manager share and cold-start rate alarms, read it."
  default     = "AtlasEngine"

  validation {
    # PutMetricData: 1-255 characters; namespaces starting with "AWS/" are reserved for AWS services.
    condition     = length(var.metrics_namespace) >= 1 && length(var.metrics_namespace) <= 255 && !startswith(var.metrics_namespace, "AWS/")
    error_message = "metrics_namespace must be 1-255 characters and must not start with \"AWS/\" (reserved for AWS services)."
  }
}

variable "bedrock_function_keys" {
  type        = list(string)
  description = "Keys in var.functions of the functions that call Bedrock; the \"Bedrock latency seen by the handlers\" widget draws their BedrockLatency p50 and p99. Keys absent from var.functions are ignored."
  default     = ["LexFulfillmentHandler", "GenerateDynamicScenarioHandler"]
}
