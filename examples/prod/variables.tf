################################################################################
# Where and as whom
################################################################################

variable "region" {
  type        = string
  description = "AWS region of the stack, e.g. us-west-2. The bot, table and secret must be in it."
}

variable "allowed_account_ids" {
  type        = list(string)
  description = "Account ids the provider may touch; a guard against applying prod to the wrong account. Null allows any."
  default     = null
}

variable "assume_role_arn" {
  type        = string
  description = "IAM role the provider assumes (e.g. the pipeline's deployment role in the prod account); the Lex code hook script assumes it too (lex_code_hook_role_arn). Null: both use the caller's credentials."
  default     = null
}

variable "environment" {
  type        = string
  description = "Environment name. It becomes the default name prefix (\"prod-\") and the Environment tag."
  default     = "prod"

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{0,15}$", var.environment))
    error_message = "environment must be 1-16 lower-case letters, digits or '-', starting with a letter."
  }
}

variable "name_prefix" {
  type        = string
  description = "Prefix of every name the stack creates. Null means \"<environment>-\". Set \"\" only to adopt the existing unprefixed functions (see the import blocks in main.tf), and then in one environment per account."
  default     = null
}

variable "tags" {
  type        = map(string)
  description = "Extra tags on every resource (the provider adds Application, Environment and ManagedBy)."
  default     = {}
}

################################################################################
# Build output and what already exists
################################################################################

variable "manifest_path" {
  type        = string
  description = "Path to dist/manifest.json written by `python build.py`."
  default     = "../../dist/manifest.json"
}

variable "salesforce_secret_arn" {
  type        = string
  description = "ARN of the existing Secrets Manager secret with the Salesforce JWT bearer credentials."
}

variable "scenario_table_arn" {
  type        = string
  description = "ARN of the existing DynamoDB scenario table (keys PK and SK)."
}

variable "connect" {
  type = object({
    instance_id         = string
    contact_flow_id     = string
    queue_id            = optional(string)
    source_phone_number = optional(string)
  })
  description = "Amazon Connect instance, contact flow, and queue or E.164 source number for outbound calls."
}

variable "lex" {
  type = object({
    bot_id       = string
    bot_alias_id = string
    locale_ids   = optional(list(string), ["en_US"])
    bot_version  = optional(string)
  })
  description = "The existing Lex V2 bot and its alias (\"Production\") whose code hook is pointed at LexFulfillmentHandler's live alias; ids as `aws lexv2-models list-bots` / `list-bot-aliases` print them."
}

variable "lex_code_hook_python" {
  type        = string
  description = "Python interpreter with boto3 on the machine that runs terraform apply (it runs the code hook script)."
  default     = "python3"
}

################################################################################
# Sizing, rollback, logs and alarms
################################################################################

variable "lex_provisioned_concurrent_executions" {
  type        = number
  description = "Warm instances kept on LexFulfillmentHandler's live alias (provisioned concurrency)."
  default     = 2

  validation {
    condition     = var.lex_provisioned_concurrent_executions >= 0
    error_message = "lex_provisioned_concurrent_executions must be 0 (none) or more."
  }
}

variable "functions" {
  type = map(object({
    memory_size                       = optional(number)
    timeout                           = optional(number)
    provisioned_concurrent_executions = optional(number)
    snap_start                        = optional(bool)
    reserved_concurrent_executions    = optional(number)
    alias_function_version            = optional(string)
  }))
  description = "Per-function overrides on top of this environment's settings (the module validates keys and ranges). Rollback: { LexFulfillmentHandler = { alias_function_version = \"28\" } } pins the live alias to version 28 without redeploying code."
  default     = {}
}

variable "log_retention_in_days" {
  type        = number
  description = "Retention of the functions' and the state machine's log groups, in days."
  default     = 90

  validation {
    condition     = contains([1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653], var.log_retention_in_days)
    error_message = "log_retention_in_days must be one of CloudWatch Logs' values (1, 3, 5, 7, 14, 30, 60, 90, 120, ... 3653)."
  }
}

variable "kms_key_arn" {
  type        = string
  description = "Customer managed KMS key for log groups and Lambda environment variables. Null uses AWS owned keys."
  default     = null
}

variable "alarm_sns_topic_arn" {
  type        = string
  description = "SNS topic that receives alarm and OK notifications (on-call)."

  validation {
    condition     = can(regex("^arn:aws[a-z-]*:sns:[a-z0-9-]+:[0-9]{12}:[A-Za-z0-9_-]{1,256}$", var.alarm_sns_topic_arn))
    error_message = "alarm_sns_topic_arn must be an SNS topic ARN (arn:aws:sns:REGION:ACCOUNT:NAME)."
  }
}
