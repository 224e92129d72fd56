################################################################################
# Function
################################################################################

variable "function_name" {
  type        = string
  description = "Name of the Lambda function. Also names its log group (/aws/lambda/<function_name>) and, unless role_name is set, its execution role."

  validation {
    condition     = can(regex("^[A-Za-z0-9_-]{1,64}$", var.function_name))
    error_message = "function_name must be 1-64 characters of letters, digits, '-' and '_' (Lambda CreateFunction FunctionName)."
  }
}

variable "description" {
  type        = string
  description = "Description of the function, shown in the Lambda console."
  default     = ""

  validation {
    condition     = length(var.description) <= 256
    error_message = "description must be at most 256 characters."
  }
}

variable "filename" {
  type        = string
  description = "Path to the deployment package (.zip) written by build.py. Read by the provider at apply time only."

  validation {
    condition     = endswith(var.filename, ".zip")
    error_message = "filename must be the path of a .zip deployment package."
  }
}

variable "source_code_hash" {
  type        = string
  description = "Base64-encoded SHA-256 of the zip (build.py's manifest `source_code_hash`, equal to filebase64sha256(filename) and to the CodeSha256 Lambda reports). A new value deploys the new code and publishes a version."

  validation {
    condition     = can(regex("^[A-Za-z0-9+/]{43}=$", var.source_code_hash))
    error_message = "source_code_hash must be a base64 SHA-256 (44 characters ending in '='): the manifest's source_code_hash, i.e. filebase64sha256 of the zip. Not a hex digest, not SHA-512."
  }
}

variable "handler" {
  type        = string
  description = "Handler as `<module>.<function>`, e.g. lambda_function.lambda_handler."
  default     = "lambda_function.lambda_handler"

  validation {
    condition     = can(regex("^[A-Za-z0-9_./-]+\\.[A-Za-z_][A-Za-z0-9_]*$", var.handler)) && length(var.handler) <= 128
    error_message = "handler must look like module.function (e.g. lambda_function.lambda_handler), at most 128 characters."
  }
}

variable "runtime" {
  type        = string
  description = "Python runtime identifier. python3.14 needs an AWS provider release that knows it (hashicorp/aws 5.100 accepts up to python3.13)."
  default     = "python3.12"

  validation {
    condition     = contains(["python3.12", "python3.13", "python3.14"], var.runtime)
    error_message = "runtime must be python3.12, python3.13 or python3.14: the Python runtimes Lambda supports that also support SnapStart."
  }
}

variable "architecture" {
  type        = string
  description = "Instruction set the zip was built for: x86_64 or arm64. Must match the wheels build.py picked."
  default     = "x86_64"

  validation {
    condition     = contains(["x86_64", "arm64"], var.architecture)
    error_message = "architecture must be x86_64 or arm64."
  }
}

variable "memory_size" {
  type        = number
  description = "Memory in MB. CPU is allocated in proportion, so CPU-bound SDK work (Bedrock, JSON) gets faster with more."
  default     = 256

  validation {
    condition     = var.memory_size >= 128 && var.memory_size <= 10240 && floor(var.memory_size) == var.memory_size
    error_message = "memory_size must be a whole number of MB between 128 and 10240."
  }
}

variable "timeout" {
  type        = number
  description = "Maximum run time of one invocation, in seconds."
  default     = 30

  validation {
    condition     = var.timeout >= 1 && var.timeout <= 900 && floor(var.timeout) == var.timeout
    error_message = "timeout must be a whole number of seconds between 1 and 900."
  }
}

variable "environment_variables" {
  type        = map(string)
  description = "Environment variables of the function (configuration only; never secrets: pass a secret's ARN instead). An empty map sends no Environment block."
  default     = {}

  validation {
    condition     = alltrue([for k in keys(var.environment_variables) : can(regex("^[A-Za-z][A-Za-z0-9_]*$", k))])
    error_message = "environment_variables keys must start with a letter and hold only letters, digits and '_'."
  }

  validation {
    # Lambda sets these itself and rejects a function that tries to (Lambda developer guide,
    # "Defined runtime environment variables").
    condition = length(setintersection(keys(var.environment_variables), [
      "_HANDLER", "_X_AMZN_TRACE_ID", "AWS_DEFAULT_REGION", "AWS_REGION", "AWS_EXECUTION_ENV",
      "AWS_LAMBDA_FUNCTION_NAME", "AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "AWS_LAMBDA_FUNCTION_VERSION",
      "AWS_LAMBDA_INITIALIZATION_TYPE", "AWS_LAMBDA_LOG_GROUP_NAME", "AWS_LAMBDA_LOG_STREAM_NAME",
      "AWS_ACCESS_KEY", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN",
      "AWS_LAMBDA_RUNTIME_API", "LAMBDA_TASK_ROOT", "LAMBDA_RUNTIME_DIR",
    ])) == 0
    error_message = "environment_variables must not set keys Lambda reserves (AWS_REGION, AWS_LAMBDA_*, _X_AMZN_TRACE_ID, credentials, LAMBDA_TASK_ROOT, ...)."
  }

  validation {
    condition     = length(jsonencode(var.environment_variables)) <= 4096
    error_message = "environment_variables must total at most 4 KB, Lambda's limit."
  }
}

variable "tracing_mode" {
  type        = string
  description = "X-Ray tracing mode. Active samples and traces every invocation; PassThrough only follows an upstream trace header."
  default     = "Active"

  validation {
    condition     = contains(["Active", "PassThrough"], var.tracing_mode)
    error_message = "tracing_mode must be Active or PassThrough."
  }
}

variable "log_format" {
  type        = string
  description = "Format Lambda writes system logs in (logging_config.log_format). The handlers write their own JSON lines, so Text keeps them unwrapped. Null sends no LoggingConfig at all, leaving Lambda's default (Text, into /aws/lambda/<function_name>, which is this module's log group): for emulators that drop LoggingConfig."
  default     = "Text"

  validation {
    condition     = var.log_format == null ? true : contains(["Text", "JSON"], var.log_format)
    error_message = "log_format must be Text, JSON or null."
  }
}

variable "reserved_concurrent_executions" {
  type        = number
  description = "Concurrency reserved for this function out of the account's pool; -1 reserves none (unreserved), 0 stops all invocations."
  default     = -1

  validation {
    condition     = var.reserved_concurrent_executions >= -1 && floor(var.reserved_concurrent_executions) == var.reserved_concurrent_executions
    error_message = "reserved_concurrent_executions must be -1 (unreserved) or a whole number of 0 or more."
  }
}

variable "snap_start" {
  type        = bool
  description = "Turn on SnapStart for published versions (Python 3.12+). Cannot be combined with provisioned concurrency."
  default     = false
}

################################################################################
# Alias and provisioned concurrency
################################################################################

variable "alias_name" {
  type        = string
  description = "Name of the alias that callers (Lex, Step Functions) invoke."
  default     = "live"

  validation {
    condition     = can(regex("^[A-Za-z0-9_-]{1,128}$", var.alias_name)) && !can(regex("^[0-9]+$", var.alias_name))
    error_message = "alias_name must be 1-128 letters, digits, '-' or '_' and not all digits; $LATEST is not an alias."
  }
}

variable "alias_function_version" {
  type        = string
  description = "Rollback pin: the published version number (e.g. \"28\") the alias points at. Null points it at the version this apply publishes. Pinning moves only the alias; the function, its provisioned concurrency and the alias ARN stay."
  default     = null

  validation {
    condition     = var.alias_function_version == null ? true : can(regex("^[1-9][0-9]*$", var.alias_function_version))
    error_message = "alias_function_version must be a published version number such as \"28\"; $LATEST is never allowed behind the alias."
  }
}

variable "provisioned_concurrent_executions" {
  type        = number
  description = "Pre-initialised execution environments on the alias. 0 configures none."
  default     = 0

  validation {
    condition     = var.provisioned_concurrent_executions >= 0 && floor(var.provisioned_concurrent_executions) == var.provisioned_concurrent_executions
    error_message = "provisioned_concurrent_executions must be a whole number, 0 (none) or more."
  }
}

################################################################################
# Permissions, logs, encryption, tags
################################################################################

variable "policy_statements" {
  type = map(object({
    actions   = list(string)
    resources = list(string)
  }))
  description = "Extra Allow statements of the execution role, keyed by purpose (the key becomes the statement's Sid without its non-alphanumerics), e.g. { salesforce_secret = { actions = [\"secretsmanager:GetSecretValue\"], resources = [SECRET_ARN] } }. Writing to the function's own log group and X-Ray are always granted."
  default     = {}

  validation {
    condition     = alltrue([for k, s in var.policy_statements : can(regex("^[A-Za-z][A-Za-z0-9_]*$", k)) && length(s.actions) > 0 && length(s.resources) > 0])
    error_message = "Each policy_statements key must start with a letter and hold only letters, digits and '_'; each statement needs at least one action and one resource."
  }

  validation {
    condition     = length(distinct([for k in keys(var.policy_statements) : lower(replace(k, "_", ""))])) == length(var.policy_statements)
    error_message = "policy_statements keys must stay distinct once '_' is removed, because they become statement Sids."
  }

  validation {
    condition = alltrue(flatten([for s in values(var.policy_statements) : [
      for a in s.actions : can(regex("^[a-z0-9-]+:[A-Za-z0-9*]+$", a)) && !endswith(a, ":*")
    ]]))
    error_message = "policy_statements actions must be service:Action names (wildcards inside a name are allowed, a whole-service \"service:*\" is not)."
  }

  validation {
    condition     = alltrue(flatten([for s in values(var.policy_statements) : [for r in s.resources : r != "*"]]))
    error_message = "policy_statements resources must be ARNs, never \"*\": least privilege."
  }
}

variable "role_name" {
  type        = string
  description = "Name of the execution role. Null uses function_name. IAM is global, so give a region-specific name when the same function name is deployed in two regions of one account."
  default     = null

  validation {
    condition     = var.role_name == null ? true : can(regex("^[A-Za-z0-9+=,.@_-]{1,64}$", var.role_name))
    error_message = "role_name must be 1-64 characters of letters, digits and +=,.@_-."
  }
}

variable "role_permissions_boundary" {
  type        = string
  description = "ARN of an IAM policy to set as the execution role's permissions boundary, where an organisation requires one. Null sets none."
  default     = null
}

variable "log_retention_in_days" {
  type        = number
  description = "How long the function's log group keeps events, in days."
  default     = 30

  validation {
    condition     = contains([1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653], var.log_retention_in_days)
    error_message = "log_retention_in_days must be one of CloudWatch Logs' values: 1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288 or 3653."
  }
}

variable "kms_key_arn" {
  type        = string
  description = "Customer managed KMS key ARN that encrypts the log group and the function's environment variables. Its key policy must allow logs.<region>.amazonaws.com. Null uses AWS owned keys."
  default     = null

  validation {
    condition     = var.kms_key_arn == null ? true : can(regex("^arn:aws[a-z-]*:kms:[a-z0-9-]+:[0-9]{12}:key/.+$", var.kms_key_arn))
    error_message = "kms_key_arn must be a KMS key ARN (arn:aws:kms:REGION:ACCOUNT:key/KEY_ID)."
  }
}

variable "tags" {
  type        = map(string)
  description = "Tags for the role, log group and function."
  default     = {}
}

################################################################################
# Deploy waits (scripts/alias_wait.py, run by local-exec on the apply machine)
################################################################################

variable "wait_for_provisioned_concurrency_after_version_move" {
  type        = bool
  description = "After `live` moves to another version, wait until its provisioned concurrency is READY again before the apply goes on (and before ready_alias_arn is known). Lambda re-allocates the environments on every move, which takes minutes on AWS. Changes of the count are always waited for. No effect without provisioned concurrency."
  default     = true
}

variable "wait_timeout_seconds" {
  type        = number
  description = "Bound of each deploy wait, in seconds: routing weights clearing before a provisioned-concurrency change, and READY after one. The apply fails with the alias's weights or status when it passes."
  default     = 900

  validation {
    condition     = var.wait_timeout_seconds >= 1 && var.wait_timeout_seconds <= 3600
    error_message = "wait_timeout_seconds must be between 1 and 3600 seconds."
  }
}

variable "python_executable" {
  type        = string
  description = "Python interpreter with boto3 that runs scripts/alias_wait.py during apply (only when provisioned_concurrent_executions > 0)."
  default     = "python3"

  validation {
    condition     = length(trimspace(var.python_executable)) > 0
    error_message = "python_executable must name a Python interpreter, e.g. python3."
  }
}

variable "script_environment" {
  type        = map(string)
  description = "Extra environment for the wait script, e.g. AWS_ENDPOINT_URL for a local AWS emulator. Never put credentials here."
  default     = {}
}

variable "assume_role_arn" {
  type        = string
  description = "IAM role the wait script assumes (STS AssumeRole) before it calls Lambda: give the provider's assume_role role when it has one, since that block does not reach local-exec. Null uses the apply machine's credential chain."
  default     = null

  validation {
    condition     = var.assume_role_arn == null ? true : can(regex("^arn:aws[a-z-]*:iam::[0-9]{12}:role/.+$", var.assume_role_arn))
    error_message = "assume_role_arn must be null or an IAM role ARN."
  }
}
