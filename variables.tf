################################################################################
# Naming and packaging
################################################################################

variable "name_prefix" {
  type        = string
  description = "Prefix for every name this module creates (functions, roles, log groups, state machine, dashboard, alarms), e.g. \"dev-\". Lets two environments share one account."
  default     = ""

  validation {
    # 17 + 17 + the longest handler name (GenerateDynamicScenarioHandler, 30) = 64, Lambda's and IAM's limit.
    condition     = can(regex("^[A-Za-z0-9_-]{0,17}$", var.name_prefix))
    error_message = "name_prefix may hold only letters, digits, '-' and '_' and be at most 17 characters (function and role names are limited to 64 characters): got \"${var.name_prefix}\"."
  }
}

variable "name_suffix" {
  type        = string
  description = "Suffix for every name this module creates, e.g. \"-prod\". Use it instead of, or with, name_prefix."
  default     = ""

  validation {
    # 17 + 17 + the longest handler name (GenerateDynamicScenarioHandler, 30) = 64, Lambda's and IAM's limit.
    condition     = can(regex("^[A-Za-z0-9_-]{0,17}$", var.name_suffix))
    error_message = "name_suffix may hold only letters, digits, '-' and '_' and be at most 17 characters (function and role names are limited to 64 characters): got \"${var.name_suffix}\"."
  }
}

variable "manifest_path" {
  type        = string
  description = "Path to the dist/manifest.json written by `python build.py`. Zip paths inside it are relative to the manifest's own folder."

  validation {
    condition     = fileexists(var.manifest_path)
    error_message = "No build manifest at ${var.manifest_path}: run `python build.py` (it writes dist/manifest.json and the zips), or point manifest_path at its output."
  }

  validation {
    condition = alltrue([
      for name in ["LexFulfillmentHandler", "GenerateDynamicScenarioHandler", "CreateLeadHandler", "InvokeOutboundCallHandler", "UpdateLeadHandler"] :
      alltrue([for key in ["zip_path", "source_code_hash", "runtime", "architecture", "handler"] :
        can(tostring(jsondecode(file(var.manifest_path)).functions[name][key]))
      ])
    ])
    error_message = "${var.manifest_path} is not a complete build manifest: it needs functions.<Name>.{zip_path, source_code_hash, runtime, architecture, handler} for all five handlers. Run `python build.py` without --function to rebuild it."
  }
}

variable "tags" {
  type        = map(string)
  description = "Tags added to every resource that takes tags."
  default     = {}
}

################################################################################
# Functions
################################################################################

variable "functions" {
  type = map(object({
    memory_size                       = optional(number)
    timeout                           = optional(number)
    provisioned_concurrent_executions = optional(number)
    snap_start                        = optional(bool)
    reserved_concurrent_executions    = optional(number)
    alias_function_version            = optional(string)

    wait_for_provisioned_concurrency_after_version_move = optional(bool)
  }))
  description = <<-EOT
    Per-function overrides, keyed by function (LexFulfillmentHandler, GenerateDynamicScenarioHandler,
    CreateLeadHandler, InvokeOutboundCallHandler, UpdateLeadHandler). Unset fields keep the module's defaults:
    memory 512 MB for LexFulfillmentHandler and GenerateDynamicScenarioHandler and 256 MB for the rest,
    provisioned concurrency 1 on LexFulfillmentHandler and 0 (none) elsewhere. alias_function_version pins the
    `live` alias to an earlier published version: the rollback switch.
    wait_for_provisioned_concurrency_after_version_move (default true for LexFulfillmentHandler, false
    elsewhere) makes each apply that moves `live` wait until its provisioned concurrency is READY again.
  EOT
  default     = {}

  validation {
    condition = alltrue([for name in keys(var.functions) : contains([
      "LexFulfillmentHandler", "GenerateDynamicScenarioHandler", "CreateLeadHandler",
      "InvokeOutboundCallHandler", "UpdateLeadHandler",
    ], name)])
    error_message = "functions keys must be among LexFulfillmentHandler, GenerateDynamicScenarioHandler, CreateLeadHandler, InvokeOutboundCallHandler and UpdateLeadHandler; got ${join(", ", [for name in keys(var.functions) : name if !contains(["LexFulfillmentHandler", "GenerateDynamicScenarioHandler", "CreateLeadHandler", "InvokeOutboundCallHandler", "UpdateLeadHandler"], name)])}."
  }

  validation {
    condition = alltrue([for f in values(var.functions) :
      f.memory_size == null ? true : (f.memory_size >= 128 && f.memory_size <= 10240)
    ])
    error_message = "memory_size must be between 128 and 10240 MB; check ${join(", ", [for name, f in var.functions : "${name} (${f.memory_size})" if f.memory_size != null && !(try(f.memory_size >= 128 && f.memory_size <= 10240, false))])}."
  }

  validation {
    condition = alltrue([for f in values(var.functions) :
      f.timeout == null ? true : (f.timeout >= 1 && f.timeout <= 900)
    ])
    error_message = "timeout must be between 1 and 900 seconds; check ${join(", ", [for name, f in var.functions : "${name} (${f.timeout})" if f.timeout != null && !(try(f.timeout >= 1 && f.timeout <= 900, false))])}."
  }

  validation {
    # A Lex turn budgets 2 s of margin, 12 s for a Bedrock attempt and 9 s for a DynamoDB read
    # (lambda_src/README.md); below 25 s every first turn of a call would answer with an apology.
    condition     = try(var.functions["LexFulfillmentHandler"].timeout, null) == null ? true : var.functions["LexFulfillmentHandler"].timeout >= 25
    error_message = "LexFulfillmentHandler's timeout must be at least 25 seconds: a turn's time budget (margin, DynamoDB read, Bedrock attempt) needs 23 s; see lambda_src/README.md."
  }

  validation {
    condition = alltrue([for f in values(var.functions) :
      f.provisioned_concurrent_executions == null ? true : f.provisioned_concurrent_executions >= 0
    ])
    error_message = "provisioned_concurrent_executions must be 0 (none) or more."
  }

  validation {
    condition = alltrue([for f in values(var.functions) :
      f.alias_function_version == null ? true : can(regex("^[0-9]+$", f.alias_function_version))
    ])
    error_message = "alias_function_version must be a published version number such as \"28\"; $LATEST is never allowed behind the live alias. Check ${join(", ", [for name, f in var.functions : name if f.alias_function_version != null && !can(regex("^[0-9]+$", f.alias_function_version))])}."
  }

  validation {
    # LexFulfillmentHandler's default of 1 mirrors local.function_defaults in main.tf; the module's own
    # precondition catches any combination this misses.
    condition = alltrue([for name, f in var.functions :
      !(coalesce(f.snap_start, false) && coalesce(f.provisioned_concurrent_executions, name == "LexFulfillmentHandler" ? 1 : 0) > 0)
    ])
    error_message = "snap_start cannot be combined with provisioned concurrency on one function (LexFulfillmentHandler has 1 by default): set provisioned_concurrent_executions = 0 where snap_start = true."
  }
}

variable "log_retention_in_days" {
  type        = number
  description = "Retention of every log group this module creates (functions and state machine), in days."
  default     = 30

  validation {
    condition     = contains([1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653], var.log_retention_in_days)
    error_message = "log_retention_in_days must be one of CloudWatch Logs' values: 1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288 or 3653."
  }
}

variable "kms_key_arn" {
  type        = string
  description = "Optional customer managed KMS key ARN for log groups and Lambda environment variables. Null uses AWS owned keys."
  default     = null

  validation {
    condition     = var.kms_key_arn == null ? true : can(regex("^arn:aws[a-z-]*:kms:[a-z0-9-]+:[0-9]{12}:key/[A-Za-z0-9-]+$", var.kms_key_arn))
    error_message = "kms_key_arn must be a KMS key ARN (arn:aws:kms:REGION:ACCOUNT:key/KEY_ID); an alias ARN is not accepted by CloudWatch Logs."
  }
}

variable "log_level" {
  type        = string
  description = "Log level of the handlers' JSON logs."
  default     = "INFO"

  validation {
    condition     = contains(["DEBUG", "INFO", "WARNING", "ERROR"], var.log_level)
    error_message = "log_level must be DEBUG, INFO, WARNING or ERROR."
  }
}

variable "metrics_namespace" {
  type        = string
  description = "CloudWatch namespace where the handlers' Embedded Metric Format metrics land (ColdStart, SecretsManagerRead, ScenarioLookup, Salesforce*, Bedrock*, TurnDuration; lambda_src/atlas_shared/metrics.py). Every function gets it as METRICS_NAMESPACE; the dashboard and the cold-start and Secrets Manager share alarms read it."
  default     = "AtlasEngine"

  validation {
    # PutMetricData: a namespace is 1-255 characters; "AWS/" is reserved for AWS services.
    condition     = length(var.metrics_namespace) >= 1 && length(var.metrics_namespace) <= 255 && !startswith(var.metrics_namespace, "AWS/")
    error_message = "metrics_namespace must be 1-255 characters and must not start with \"AWS/\" (reserved for AWS services)."
  }
}

################################################################################
# What the handlers talk to
################################################################################

variable "salesforce_secret_arn" {
  type        = string
  description = "ARN of the Secrets Manager secret with the Salesforce connected app's JWT bearer credentials (JSON: client_id, username, private_key, is_sandbox)."

  validation {
    condition     = can(regex("^arn:aws[a-z-]*:secretsmanager:[a-z0-9-]+:[0-9]{12}:secret:.+$", var.salesforce_secret_arn))
    error_message = "salesforce_secret_arn must be a Secrets Manager secret ARN (arn:aws:secretsmanager:REGION:ACCOUNT:secret:NAME-AbCdEf)."
  }

  validation {
    # The execution roles are granted GetSecretValue on exactly this ARN. Secrets Manager's ARN ends in "-" and six
    # random characters; a partial ARN (without them) still finds the secret, but IAM compares the full ARN, so the
    # grant would never match and every Salesforce call would fail with AccessDenied.
    # https://docs.aws.amazon.com/secretsmanager/latest/userguide/reference_iam-permissions.html#iam-resources
    condition     = can(regex("^arn:aws[a-z-]*:secretsmanager:[a-z0-9-]+:[0-9]{12}:secret:[A-Za-z0-9/_+=.@-]+-[A-Za-z0-9]{6}$", var.salesforce_secret_arn))
    error_message = "salesforce_secret_arn must be the secret's complete ARN, ending in '-' and the 6-character suffix Secrets Manager adds (e.g. ...:secret:atlasengine/salesforce-AbCdEf): the IAM grant is on the exact ARN and never matches a partial one. Copy it from `aws secretsmanager describe-secret --secret-id NAME --query ARN`."
  }
}

variable "salesforce_secret_kms_key_arn" {
  type        = string
  description = "ARN of the customer managed KMS key the Salesforce secret is encrypted with. When set, the roles that read the secret (LexFulfillmentHandler, CreateLeadHandler, UpdateLeadHandler) get kms:Decrypt on exactly this key. Null: the secret uses the AWS managed key aws/secretsmanager, which needs no grant."
  default     = null

  validation {
    condition     = var.salesforce_secret_kms_key_arn == null ? true : can(regex("^arn:aws[a-z-]*:kms:[a-z0-9-]+:[0-9]{12}:key/[A-Za-z0-9-]+$", var.salesforce_secret_kms_key_arn))
    error_message = "salesforce_secret_kms_key_arn must be null or a KMS key ARN (arn:aws:kms:REGION:ACCOUNT:key/KEY_ID); IAM grants on an alias ARN do not match the key."
  }
}

variable "salesforce_lead_external_id_field" {
  type        = string
  description = "API name of an External ID, Unique text field on Lead (e.g. Atlas_Idempotency_Key__c). When set, CreateLeadHandler upserts the Lead on the workflow execution name, so Salesforce itself guarantees one Lead per execution; when null it first looks for an open Lead with the same LastName, Phone and Email."
  default     = null

  validation {
    condition     = var.salesforce_lead_external_id_field == null ? true : can(regex("^[A-Za-z][A-Za-z0-9_]*__c$", var.salesforce_lead_external_id_field))
    error_message = "salesforce_lead_external_id_field must be a custom field API name ending in __c, e.g. Atlas_Idempotency_Key__c."
  }
}

variable "secrets_cache_ttl_seconds" {
  type        = number
  description = "How long a container keeps the Salesforce secret before it fetches it again (Task 2), in seconds."
  default     = 300

  validation {
    condition     = var.secrets_cache_ttl_seconds >= 0 && var.secrets_cache_ttl_seconds <= 86400
    error_message = "secrets_cache_ttl_seconds must be between 0 and 86400."
  }
}

variable "salesforce_session_timeout_minutes" {
  type        = number
  description = "The Salesforce org's session timeout (Setup > Session Settings > Timeout value, or the connected app's own session policy), in minutes. The handlers log in again before a session idle this long is used, and LexFulfillmentHandler renews it on a greeting turn, instead of a caller's turn paying for INVALID_SESSION_ID and a re-login."
  default     = 120

  validation {
    condition     = var.salesforce_session_timeout_minutes >= 5 && var.salesforce_session_timeout_minutes <= 1440 && floor(var.salesforce_session_timeout_minutes) == var.salesforce_session_timeout_minutes
    error_message = "salesforce_session_timeout_minutes must be a whole number of minutes from 5 to 1440 (Salesforce offers 15 minutes to 24 hours)."
  }
}

variable "scenario_table_arn" {
  type        = string
  description = "ARN of the DynamoDB table (string keys PK and SK) that holds the per-call dynamic scenarios."

  validation {
    condition     = can(regex("^arn:aws[a-z-]*:dynamodb:[a-z0-9-]+:[0-9]{12}:table/[A-Za-z0-9_.-]{3,255}$", var.scenario_table_arn))
    error_message = "scenario_table_arn must be a DynamoDB table ARN (arn:aws:dynamodb:REGION:ACCOUNT:table/NAME)."
  }
}

variable "interaction_key_attributes" {
  type        = list(string)
  description = "Names of the Lex request/session attributes that carry the call's interaction key, tried in order (the first one present wins). Add the name an existing contact flow or bot already sends when adopting its calls (README: Adopting an existing bot's data)."
  default     = ["interactionKey"]

  validation {
    condition     = length(var.interaction_key_attributes) >= 1 && length(var.interaction_key_attributes) <= 5 && length(distinct(var.interaction_key_attributes)) == length(var.interaction_key_attributes)
    error_message = "interaction_key_attributes must name 1 to 5 distinct attributes."
  }

  validation {
    condition     = alltrue([for name in var.interaction_key_attributes : can(regex("^[A-Za-z0-9_.:-]{1,100}$", name))])
    error_message = "Each of interaction_key_attributes must be 1-100 letters, digits, '_', '.', ':' or '-'."
  }
}

variable "scenario_key_layouts" {
  type = list(object({
    key_pattern   = string
    partition_key = string
    sort_key      = string
  }))
  description = "How a scenario item's PK and SK are built from an interaction key, for each form of key. The first layout whose key_pattern (a regular expression the whole key must match) matches is used; partition_key and sort_key are templates in which {key} is the whole key and {name} a named group (?P<name>...) of the pattern. The default is the module's own layout; add the layout of an existing bot's table to read its calls in flight (README: Adopting an existing bot's data)."
  default = [{
    key_pattern   = "^[A-Za-z0-9_-]{8,128}$"
    partition_key = "INTERACTION#{key}"
    sort_key      = "SCENARIO"
  }]

  validation {
    condition     = length(var.scenario_key_layouts) >= 1 && length(var.scenario_key_layouts) <= 10 && length(jsonencode(var.scenario_key_layouts)) <= 2048
    error_message = "scenario_key_layouts must hold 1 to 10 layouts, together at most 2048 characters of JSON (they travel in a Lambda environment variable)."
  }

  validation {
    condition     = alltrue([for l in var.scenario_key_layouts : can(regexall(l.key_pattern, ""))])
    error_message = "Each key_pattern in scenario_key_layouts must be a valid regular expression."
  }

  validation {
    condition = alltrue([for l in var.scenario_key_layouts : alltrue([
      for t in [l.partition_key, l.sort_key] : length(t) >= 1 && length(t) <= 1024 && !can(regex("[{}]", replace(t, "/\\{[A-Za-z_][A-Za-z0-9_]*\\}/", "")))
    ])])
    error_message = "Each partition_key and sort_key in scenario_key_layouts must be 1-1024 characters, with braces only around placeholders such as {key}."
  }

  validation {
    condition = alltrue([for l in var.scenario_key_layouts : alltrue([
      for name in flatten(regexall("\\{([A-Za-z_][A-Za-z0-9_]*)\\}", "${l.partition_key}${l.sort_key}")) : name == "key" || strcontains(l.key_pattern, "(?P<${name}>")
    ])])
    error_message = "scenario_key_layouts templates may use {key} and the key_pattern's own named groups (?P<name>...) only."
  }

  validation {
    condition     = alltrue([for l in var.scenario_key_layouts : can(regex("\\{[A-Za-z_][A-Za-z0-9_]*\\}", "${l.partition_key}${l.sort_key}"))])
    error_message = "In each of scenario_key_layouts, partition_key or sort_key must use the key (a placeholder such as {key}); otherwise every call would share one item."
  }
}

variable "scenario_table_kms_key_arn" {
  type        = string
  description = "ARN of the customer managed KMS key the scenario table is encrypted with (SSE type KMS with your own key). When set, the roles that use the table (LexFulfillmentHandler reads it, GenerateDynamicScenarioHandler writes it, the three workflow tasks keep their idempotency records in it; DynamoDB decrypts the table key with the caller's permissions) get kms:Decrypt on exactly this key. Null: the AWS owned or AWS managed key, which needs no grant."
  default     = null

  validation {
    condition     = var.scenario_table_kms_key_arn == null ? true : can(regex("^arn:aws[a-z-]*:kms:[a-z0-9-]+:[0-9]{12}:key/[A-Za-z0-9-]+$", var.scenario_table_kms_key_arn))
    error_message = "scenario_table_kms_key_arn must be null or a KMS key ARN (arn:aws:kms:REGION:ACCOUNT:key/KEY_ID); IAM grants on an alias ARN do not match the key."
  }
}

variable "bedrock" {
  type = object({
    model_id = optional(string, "us.anthropic.claude-haiku-5-5")
    turn = optional(object({
      max_tokens    = optional(number, 150)
      temperature   = optional(number, 0.7)
      max_sentences = optional(number, 3)
      streaming     = optional(bool, true)
    }), {})
    scenario = optional(object({
      max_tokens  = optional(number, 200)
      temperature = optional(number, 0.8)
    }), {})
    latency_optimized   = optional(bool, false)
    service_tier        = optional(string)
    cache_system_prompt = optional(bool, false)
  })
  description = "Bedrock model and generation settings (Task 4, issue 8; README \"Bedrock\"). `model_id`: a foundation-model id, a system inference profile id (us./eu./apac./jp./au./ca./us-gov./global.), or an inference profile, application inference profile, foundation-model or provisioned model ARN. `turn` for LexFulfillmentHandler's replies (`max_sentences` stops a spoken reply after that many whole sentences; `streaming` uses ConverseStream and stops reading once they are in), `scenario` for GenerateDynamicScenarioHandler's scenario and greeting. `latency_optimized` sends performanceConfig latency=optimized (only where the model and Region offer it), `cache_system_prompt` a prompt-cache point after a system prompt long enough to be cached, `service_tier` Converse's serviceTier (refused: see the README)."
  default     = {}

  validation {
    condition = alltrue([for g in [var.bedrock.turn, var.bedrock.scenario] :
      g.max_tokens >= 1 && g.max_tokens <= 4096 && g.temperature >= 0 && g.temperature <= 1
    ])
    error_message = "bedrock max_tokens must be 1-4096 and temperature 0-1."
  }

  validation {
    condition = length(var.bedrock.model_id) <= 2048 && (
      can(regex("^arn:aws[a-z-]*:bedrock:[a-z0-9-]*:([0-9]{12})?:(foundation-model|inference-profile|application-inference-profile|provisioned-model)/[A-Za-z0-9.:_-]+$", var.bedrock.model_id)) ||
      can(regex("^[a-z0-9-]+\\.[A-Za-z0-9._:-]+$", var.bedrock.model_id))
    )
    error_message = "bedrock.model_id \"${var.bedrock.model_id}\" is not a Bedrock model id. Accepted forms: a foundation-model id (anthropic.claude-haiku-5-5); a system inference profile id (us.anthropic.claude-haiku-5-5; prefixes us, us-gov, eu, apac, jp, au, ca, global); or the ARN of a foundation model (arn:aws:bedrock:REGION::foundation-model/ID), an inference profile (arn:aws:bedrock:REGION:ACCOUNT:inference-profile/ID), an application inference profile (arn:aws:bedrock:REGION:ACCOUNT:application-inference-profile/ID) or a provisioned model (arn:aws:bedrock:REGION:ACCOUNT:provisioned-model/ID)."
  }

  validation {
    condition     = var.bedrock.turn.max_sentences >= 1 && var.bedrock.turn.max_sentences <= 10 && floor(var.bedrock.turn.max_sentences) == var.bedrock.turn.max_sentences
    error_message = "bedrock.turn.max_sentences must be a whole number from 1 to 10 (3 suits a phone call)."
  }

  validation {
    condition     = var.bedrock.service_tier == null
    error_message = "bedrock.service_tier: the python3.12 Lambda runtime's botocore has no Converse serviceTier parameter (neither has botocore 1.40.61, this repository's pin), so the handlers could not send it. Leave it unset; see the README's Bedrock section."
  }
}

variable "conversation_history_turns" {
  type        = number
  description = "How many recent turns LexFulfillmentHandler keeps in session attributes and sends to Bedrock as history."
  default     = 6

  validation {
    condition     = var.conversation_history_turns >= 0 && var.conversation_history_turns <= 50
    error_message = "conversation_history_turns must be between 0 and 50."
  }
}

variable "connect" {
  type = object({
    instance_id         = string
    contact_flow_id     = string
    queue_id            = optional(string)
    source_phone_number = optional(string)
  })
  description = "Amazon Connect settings for InvokeOutboundCallHandler's StartOutboundVoiceContact. Give queue_id or source_phone_number (E.164)."

  validation {
    condition     = var.connect.queue_id != null || var.connect.source_phone_number != null
    error_message = "connect needs queue_id or source_phone_number: StartOutboundVoiceContact requires one of them."
  }

  validation {
    condition = alltrue([for id in compact([var.connect.instance_id, var.connect.contact_flow_id, coalesce(var.connect.queue_id, "00000000-0000-0000-0000-000000000000")]) :
      can(regex("^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$", id))
    ])
    error_message = "connect.instance_id, contact_flow_id and queue_id are Amazon Connect ids (lower-case UUIDs such as 11111111-2222-3333-4444-555555555555, the last part of their ARNs), not ARNs or names."
  }

  validation {
    condition     = var.connect.source_phone_number == null ? true : can(regex("^\\+[1-9][0-9]{1,14}$", var.connect.source_phone_number))
    error_message = "connect.source_phone_number must be an E.164 number such as +14155550123 (no spaces or dashes)."
  }
}

################################################################################
# Lex V2 bot alias code hook (Task 1)
################################################################################

variable "lex" {
  type = object({
    bot_id       = string
    bot_alias_id = string
    locale_ids   = optional(list(string), ["en_US"])
    bot_version  = optional(string)
    # What removal (lex = null, terraform destroy, another bot_alias_id) does to the alias: see the module.
    code_hook_on_removal = optional(string, "restore")
  })
  description = "The existing Lex V2 bot alias whose locale code hooks are pointed at LexFulfillmentHandler's live alias. bot_version, when set, also moves the bot alias to that bot version. code_hook_on_removal (\"restore\", \"keep\" or a Lambda ARN) says what removing it does to the alias: by default the code hook found at adoption is put back. Null leaves Lex alone (removing an earlier setting restores as recorded)."
  default     = null

  validation {
    condition     = var.lex == null ? true : (can(regex("^[0-9A-Z]{10}$", var.lex.bot_id)) && can(regex("^[0-9A-Z]{10}$", var.lex.bot_alias_id)))
    error_message = "lex.bot_id and lex.bot_alias_id are 10-character Lex V2 ids (upper-case letters and digits), as `aws lexv2-models list-bots` and `list-bot-aliases` print them."
  }

  validation {
    condition     = var.lex == null ? true : length(var.lex.locale_ids) > 0 && alltrue([for l in var.lex.locale_ids : can(regex("^[a-z]{2}_[A-Z]{2}$", l))])
    error_message = "lex.locale_ids must be a non-empty list of Lex V2 locale ids such as en_US."
  }

  validation {
    condition     = var.lex == null ? true : (contains(["restore", "keep"], var.lex.code_hook_on_removal) || can(regex("^arn:aws[a-z-]*:lambda:[a-z0-9-]+:[0-9]{12}:function:[A-Za-z0-9_-]{1,64}(:[A-Za-z0-9_-]{1,128})?$", var.lex.code_hook_on_removal)))
    error_message = "lex.code_hook_on_removal must be \"restore\", \"keep\" or a Lambda function ARN (arn:aws:lambda:REGION:ACCOUNT:function:NAME[:QUALIFIER])."
  }
}

variable "lex_code_hook_python" {
  type        = string
  description = "Python interpreter (with boto3) that runs the module's Lex code hook script during apply, and the deploy waits of functions with provisioned concurrency."
  default     = "python3"
}

variable "lex_code_hook_environment" {
  type        = map(string)
  description = "Extra environment for the Lex code hook script and the deploy waits, e.g. AWS_ENDPOINT_URL for a local AWS emulator. Never put credentials here."
  default     = {}
}

variable "lex_code_hook_role_arn" {
  type        = string
  description = "IAM role the Lex code hook script assumes (STS AssumeRole from the apply machine's AWS credential chain) before it updates the bot alias. Give the same role as the provider's assume_role when the provider assumes one: that block does not reach the script. Null runs the script as the apply machine's credential chain."
  default     = null

  validation {
    condition     = var.lex_code_hook_role_arn == null ? true : can(regex("^arn:aws[a-z-]*:iam::[0-9]{12}:role/([A-Za-z0-9_+=,.@-]+/)*[A-Za-z0-9_+=,.@-]{1,64}$", var.lex_code_hook_role_arn))
    error_message = "lex_code_hook_role_arn must be null or an IAM role ARN such as \"arn:aws:iam::123456789012:role/atlas-engine-deployer\"."
  }
}

################################################################################
# Step Functions workflow (Task 5)
################################################################################

variable "workflow" {
  type = object({
    enabled             = optional(bool, true)
    definition_template = optional(string)
    log_level           = optional(string, "ALL")
  })
  description = "The AtlasEngineWorkflow state machine. definition_template, when set, is your own Amazon States Language template; its placeholders $${create_lead_arn}, $${generate_dynamic_scenario_arn}, $${invoke_outbound_call_arn}, $${update_lead_arn}, $${failed_leads_table_name} and $${partition} are filled in. Pass the template's text (e.g. file(\"my-workflow.asl.json\")), not a path."
  default     = {}

  validation {
    condition     = contains(["ALL", "ERROR", "FATAL", "OFF"], var.workflow.log_level)
    error_message = "workflow.log_level must be ALL, ERROR, FATAL or OFF."
  }
}

################################################################################
# Dashboard and alarms
################################################################################

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
  description = "CloudWatch alarms and the latency targets (Phase 1: average 5 s, p99 7 s). Alarm and OK actions go to sns_topic_arn when it is set."
  default     = {}

  validation {
    condition     = var.alarms.average_duration_target_ms > 0 && var.alarms.p99_duration_target_ms > 0
    error_message = "Duration targets must be positive milliseconds."
  }

  validation {
    # Lambda, Step Functions and Bedrock publish these metrics once a minute: a 10-30 s period sees most periods
    # empty, so an N-of-N alarm with treat_missing_data = notBreaching can never fire.
    condition     = contains([60, 120, 300, 600, 900, 3600], var.alarms.period_seconds)
    error_message = "alarms.period_seconds must be one of 60, 120, 300, 600, 900 or 3600: Lambda's metrics are per minute, so a period under 60 s leaves most periods without data and the alarms never fire."
  }
}

variable "provisioned_concurrency_autoscaling" {
  type = object({
    enabled                    = optional(bool, false)
    min_capacity               = optional(number, 1)
    max_capacity               = optional(number, 5)
    target_utilization         = optional(number, 0.7)
    scale_in_cooldown_seconds  = optional(number)
    scale_out_cooldown_seconds = optional(number)
    scheduled_actions = optional(map(object({
      schedule     = string
      timezone     = optional(string, "UTC")
      min_capacity = number
      max_capacity = number
    })), {})
  })
  description = <<-EOT
    Application Auto Scaling of LexFulfillmentHandler's provisioned concurrency on its `live` alias (autoscaling.tf).
    When enabled, Application Auto Scaling owns the count: the function's own provisioned concurrency config is
    not created (setting functions.LexFulfillmentHandler.provisioned_concurrent_executions above 0 as well is an
    error), registering the alias sets it to min_capacity, and target tracking on
    LambdaProvisionedConcurrencyUtilization keeps utilization near target_utilization (AWS suggests 0.7:
    https://docs.aws.amazon.com/lambda/latest/dg/provisioned-concurrency.html#managing-provisioned-concurency)
    between min_capacity and max_capacity. scheduled_actions, keyed by a name, set min_capacity and max_capacity
    at a schedule (`cron(0 8 ? * MON-FRI *)`, `at(2026-12-24T18:00:00)` or `rate(...)`) in an IANA time zone
    (default UTC), e.g. calling hours: raise the floor at 08:00 and drop it to 0 at 18:00. Cooldowns default to
    Application Auto Scaling's.
  EOT
  default     = {}
  nullable    = false

  validation {
    condition = (
      var.provisioned_concurrency_autoscaling.min_capacity >= 0 &&
      var.provisioned_concurrency_autoscaling.max_capacity >= 1 &&
      var.provisioned_concurrency_autoscaling.min_capacity <= var.provisioned_concurrency_autoscaling.max_capacity &&
      floor(var.provisioned_concurrency_autoscaling.min_capacity) == var.provisioned_concurrency_autoscaling.min_capacity &&
      floor(var.provisioned_concurrency_autoscaling.max_capacity) == var.provisioned_concurrency_autoscaling.max_capacity
    )
    error_message = "provisioned_concurrency_autoscaling needs whole numbers 0 <= min_capacity <= max_capacity and max_capacity >= 1."
  }

  validation {
    # Below 0.1 pays for ten idle environments per busy one; above 0.9 leaves no headroom for a burst while the
    # scaler waits for its one-minute datapoints, so turns spill over to cold starts.
    condition     = var.provisioned_concurrency_autoscaling.target_utilization >= 0.1 && var.provisioned_concurrency_autoscaling.target_utilization <= 0.9
    error_message = "provisioned_concurrency_autoscaling.target_utilization must be between 0.1 and 0.9 (a fraction of the provisioned environments in use; AWS suggests 0.7)."
  }

  validation {
    condition = alltrue([for c in [var.provisioned_concurrency_autoscaling.scale_in_cooldown_seconds, var.provisioned_concurrency_autoscaling.scale_out_cooldown_seconds] :
      c == null ? true : c >= 0 && c <= 3600 && floor(c) == c
    ])
    error_message = "provisioned_concurrency_autoscaling cooldowns must be whole seconds from 0 to 3600, or null for Application Auto Scaling's defaults."
  }

  validation {
    # A floor of 0 publishes no utilization, so target tracking alone never scales out from it; a scheduled
    # action must raise it.
    condition     = !var.provisioned_concurrency_autoscaling.enabled || var.provisioned_concurrency_autoscaling.min_capacity >= 1 || length(var.provisioned_concurrency_autoscaling.scheduled_actions) > 0
    error_message = "provisioned_concurrency_autoscaling.min_capacity = 0 needs scheduled_actions that raise it: with no provisioned environment there is no utilization for target tracking to follow."
  }

  validation {
    condition = alltrue([for name, a in var.provisioned_concurrency_autoscaling.scheduled_actions :
      can(regex("^[A-Za-z0-9_-]{1,64}$", name)) &&
      can(regex("^(cron\\([^)]+\\)|rate\\([^)]+\\)|at\\([0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\\))$", a.schedule)) &&
      can(regex("^[A-Za-z]+(/[A-Za-z0-9_+-]+)*$", a.timezone)) &&
      a.min_capacity >= 0 && a.min_capacity <= a.max_capacity && floor(a.min_capacity) == a.min_capacity && floor(a.max_capacity) == a.max_capacity
    ])
    error_message = "Each provisioned_concurrency_autoscaling.scheduled_actions entry needs a name of letters, digits, '-' and '_'; schedule cron(...), rate(...) or at(yyyy-mm-ddThh:mm:ss); an IANA timezone such as Europe/Berlin; and whole numbers 0 <= min_capacity <= max_capacity."
  }
}
