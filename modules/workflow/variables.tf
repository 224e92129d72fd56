variable "name" {
  type        = string
  description = "Name of the state machine, e.g. \"dev-AtlasEngineWorkflow\". Also names its log group (/aws/vendedlogs/states/<name>) and IAM role (<name>-sfn)."

  validation {
    condition     = can(regex("^[A-Za-z0-9_-]{1,80}$", var.name))
    error_message = "name must be 1-80 characters of letters, digits, '-' and '_' (Step Functions state machine names)."
  }
}

variable "definition_template" {
  type        = string
  description = <<-EOT
    Your own Amazon States Language definition, as a string (for example file("workflow.asl.json")). Null uses the
    module's templates/atlas_engine_workflow.asl.json.tftpl. The placeholders $${create_lead_arn},
    $${generate_dynamic_scenario_arn}, $${invoke_outbound_call_arn}, $${update_lead_arn} (the functions' alias ARNs),
    $${failed_leads_table_name} and $${partition} are replaced verbatim; nothing else in the text is interpreted.
  EOT
  default     = null

  validation {
    condition     = var.definition_template == null ? true : can(jsondecode(var.definition_template))
    error_message = "definition_template must be a JSON document (Amazon States Language); placeholders such as $${create_lead_arn} go inside JSON strings."
  }
}

variable "function_alias_arns" {
  type = object({
    create_lead               = string
    generate_dynamic_scenario = string
    invoke_outbound_call      = string
    update_lead               = string
  })
  description = "Qualified ARNs (arn:aws:lambda:REGION:ACCOUNT:function:NAME:ALIAS) of the functions' `live` aliases. The tasks invoke these and the role may invoke only these."

  validation {
    condition = alltrue([for arn in values(var.function_alias_arns) :
      can(regex("^arn:aws[a-z-]*:lambda:[a-z0-9-]+:[0-9]{12}:function:[A-Za-z0-9_-]{1,64}:[A-Za-z0-9_-]{1,128}$", arn))
    ])
    error_message = "function_alias_arns values must be qualified Lambda ARNs ending in an alias or version (arn:aws:lambda:REGION:ACCOUNT:function:NAME:live); unqualified ARNs and $LATEST are not allowed."
  }
}

variable "failed_leads_table_arn" {
  type        = string
  description = "ARN of the DynamoDB table (string keys PK and SK) where the workflow's catch writes failed leads (PK = FAILED_LEAD#<execution name>, SK = FAILURE)."

  validation {
    condition     = can(regex("^arn:aws[a-z-]*:dynamodb:[a-z0-9-]+:[0-9]{12}:table/[A-Za-z0-9_.-]{3,255}$", var.failed_leads_table_arn))
    error_message = "failed_leads_table_arn must be a DynamoDB table ARN (arn:aws:dynamodb:REGION:ACCOUNT:table/NAME)."
  }
}

variable "log_level" {
  type        = string
  description = "Which execution events Step Functions sends to CloudWatch Logs: ALL, ERROR, FATAL or OFF. Execution data (lead details) is never included."
  default     = "ALL"

  validation {
    condition     = contains(["ALL", "ERROR", "FATAL", "OFF"], var.log_level)
    error_message = "log_level must be ALL, ERROR, FATAL or OFF."
  }
}

variable "log_retention_in_days" {
  type        = number
  description = "Retention of the state machine's log group, in days."
  default     = 30

  validation {
    condition     = contains([1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653], var.log_retention_in_days)
    error_message = "log_retention_in_days must be one of CloudWatch Logs' values: 1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288 or 3653."
  }
}

variable "kms_key_arn" {
  type        = string
  description = "Optional customer managed KMS key ARN for the log group. Its key policy must let CloudWatch Logs (logs.REGION.amazonaws.com) use it. Null uses an AWS owned key."
  default     = null

  validation {
    condition     = var.kms_key_arn == null ? true : can(regex("^arn:aws[a-z-]*:kms:[a-z0-9-]+:[0-9]{12}:key/.+$", var.kms_key_arn))
    error_message = "kms_key_arn must be a KMS key ARN (arn:aws:kms:REGION:ACCOUNT:key/KEY_ID) or null."
  }
}

variable "tags" {
  type        = map(string)
  description = "Tags added to the state machine, its role and its log group."
  default     = {}
}
