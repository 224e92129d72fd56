################################################################################
# The existing Lex V2 bot alias
################################################################################

variable "bot_id" {
  type        = string
  description = "Id of the existing Lex V2 bot (10 upper-case letters and digits, as `aws lexv2-models list-bots` prints it)."

  validation {
    condition     = can(regex("^[0-9A-Z]{10}$", var.bot_id))
    error_message = "bot_id must be a 10-character Lex V2 bot id made of upper-case letters and digits, e.g. \"ABCDE12345\"."
  }
}

variable "bot_alias_id" {
  type        = string
  description = "Id of the existing bot alias whose code hook is set (10 upper-case letters and digits, as `aws lexv2-models list-bot-aliases` prints it). The alias is adopted as it is; nothing is created or imported."

  validation {
    condition     = can(regex("^[0-9A-Z]{10}$", var.bot_alias_id))
    error_message = "bot_alias_id must be a 10-character Lex V2 bot alias id made of upper-case letters and digits, e.g. \"TSTALIASID\"."
  }
}

variable "locale_ids" {
  type        = list(string)
  description = "Locales of the bot alias whose Lambda code hook is set and which are enabled, e.g. [\"en_US\", \"es_US\"]. The alias's other locales are kept as they are."
  default     = ["en_US"]

  validation {
    condition     = length(var.locale_ids) > 0 && alltrue([for l in var.locale_ids : can(regex("^[a-z]{2}_[A-Z]{2}$", l))])
    error_message = "locale_ids must be a non-empty list of Lex V2 locale ids such as \"en_US\" (language_COUNTRY)."
  }

  validation {
    condition     = length(distinct(var.locale_ids)) == length(var.locale_ids)
    error_message = "locale_ids must not repeat a locale."
  }
}

variable "bot_version" {
  type        = string
  description = "Numbered bot version to move the alias to, e.g. \"3\". Null keeps the alias's current bot version. DRAFT is refused: only the built-in test alias may point at it."
  default     = null

  validation {
    condition     = var.bot_version == null ? true : can(regex("^[1-9][0-9]{0,4}$", var.bot_version))
    error_message = "bot_version must be null or a numbered bot version such as \"3\"; a bot alias other than TestBotAlias cannot point at DRAFT."
  }
}

################################################################################
# The Lambda code hook
################################################################################

variable "lambda_function_name" {
  type        = string
  description = "Name of the Lambda function Lex invokes (unqualified), used for the invoke permission."

  validation {
    condition     = can(regex("^[A-Za-z0-9_-]{1,64}$", var.lambda_function_name))
    error_message = "lambda_function_name must be a Lambda function name: 1-64 letters, digits, '-' or '_' (not an ARN)."
  }
}

variable "lambda_alias_name" {
  type        = string
  description = "Lambda alias Lex invokes (e.g. \"live\"); the invoke permission is scoped to it."

  validation {
    condition     = can(regex("^[A-Za-z0-9_-]{1,128}$", var.lambda_alias_name)) && !can(regex("^[0-9]+$", var.lambda_alias_name)) && var.lambda_alias_name != "$LATEST"
    error_message = "lambda_alias_name must be a Lambda alias name (letters, digits, '-' or '_', not only digits), never $LATEST."
  }
}

variable "lambda_alias_arn" {
  type        = string
  description = "Qualified ARN of the Lambda alias (or published version) set as the code hook: arn:aws:lambda:REGION:ACCOUNT:function:NAME:QUALIFIER. Unqualified ARNs and $LATEST are refused so Lex always calls the function behind provisioned concurrency."

  validation {
    condition     = can(regex("^arn:aws[a-z-]*:lambda:[a-z0-9-]+:[0-9]{12}:function:[A-Za-z0-9_-]{1,64}:[A-Za-z0-9_-]{1,128}$", var.lambda_alias_arn))
    error_message = "lambda_alias_arn must be a qualified Lambda ARN (arn:aws:lambda:REGION:ACCOUNT:function:NAME:ALIAS or :VERSION); unqualified ARNs and $LATEST are not allowed."
  }
}

variable "code_hook_interface_version" {
  type        = string
  description = "codeHookInterfaceVersion of the Lambda code hook: the Lex V2 request/response format version. \"1.0\" is the only one AWS has published."
  default     = "1.0"

  validation {
    condition     = contains(["1.0"], var.code_hook_interface_version)
    error_message = "code_hook_interface_version must be \"1.0\", the only Lex V2 code hook interface version."
  }
}

################################################################################
# How the update script runs
################################################################################

variable "python_executable" {
  type        = string
  description = "Python interpreter (3.9 or later, with boto3) that runs scripts/lex_code_hook.py on the machine running `terraform apply`."
  default     = "python3"

  validation {
    condition     = length(trimspace(var.python_executable)) > 0
    error_message = "python_executable must name a Python interpreter, e.g. \"python3\" or \"/usr/bin/python3.12\"."
  }
}

variable "script_environment" {
  type        = map(string)
  description = "Extra environment for the script, merged over Terraform's own, e.g. {AWS_ENDPOINT_URL = \"http://127.0.0.1:5000\"} for moto, AWS_PROFILE, AWS_MAX_ATTEMPTS or LEX_CODE_HOOK_WAIT_TIMEOUT (seconds to wait for the alias to be Available; 0 skips the wait). Never put credentials here: plan files would carry them; use the usual AWS credential chain instead."
  default     = {}
}

variable "assume_role_arn" {
  type        = string
  description = "IAM role the script assumes (STS AssumeRole from the credential chain of the machine running terraform) before it reads and updates the bot alias; give the role the provider's assume_role names, since that block does not reach local-exec. Null runs the script as that credential chain itself."
  default     = null

  validation {
    condition     = var.assume_role_arn == null ? true : can(regex("^arn:aws[a-z-]*:iam::[0-9]{12}:role/([A-Za-z0-9_+=,.@-]+/)*[A-Za-z0-9_+=,.@-]{1,64}$", var.assume_role_arn))
    error_message = "assume_role_arn must be null or an IAM role ARN such as \"arn:aws:iam::123456789012:role/atlas-engine-deployer\"."
  }
}

################################################################################
# Removal
################################################################################

variable "code_hook_on_removal" {
  type        = string
  description = "What removing this module (terraform destroy, lex = null, another bot_alias_id) does to the bot alias: \"restore\" puts back, in each locale that still calls lambda_alias_arn, the code hook the alias had when the module adopted it (the run fails, naming this variable, when that function no longer exists); \"keep\" leaves the alias as it is; a Lambda function ARN points those locales at it. Apply a change here before the removal: the destroy step reads it from state."
  default     = "restore"

  validation {
    condition     = contains(["restore", "keep"], var.code_hook_on_removal) || can(regex("^arn:aws[a-z-]*:lambda:[a-z0-9-]+:[0-9]{12}:function:[A-Za-z0-9_-]{1,64}(:[A-Za-z0-9_-]{1,128})?$", var.code_hook_on_removal))
    error_message = "code_hook_on_removal must be \"restore\", \"keep\" or a Lambda function ARN (arn:aws:lambda:REGION:ACCOUNT:function:NAME[:QUALIFIER])."
  }
}
