data "aws_partition" "current" {}
data "aws_region" "current" {}
data "aws_caller_identity" "current" {}

locals {
  partition  = data.aws_partition.current.partition
  region     = data.aws_region.current.name
  account_id = data.aws_caller_identity.current.account_id

  manifest     = jsondecode(file(var.manifest_path))
  manifest_dir = dirname(var.manifest_path)

  scenario_table_name = split("/", var.scenario_table_arn)[1]

  connect_instance = "arn:${local.partition}:connect:${local.region}:${local.account_id}:instance/${var.connect.instance_id}"

  common_environment = {
    LOG_LEVEL         = var.log_level
    METRICS_NAMESPACE = var.metrics_namespace
  }

  salesforce_environment = {
    SALESFORCE_SECRET_ARN              = var.salesforce_secret_arn
    SECRETS_CACHE_TTL_SECONDS          = tostring(var.secrets_cache_ttl_seconds)
    SALESFORCE_SESSION_TIMEOUT_MINUTES = tostring(var.salesforce_session_timeout_minutes)
  }

  # How scenario items are keyed (read by LexFulfillmentHandler, written by GenerateDynamicScenarioHandler).
  scenario_key_environment = {
    SCENARIO_KEY_LAYOUTS = jsonencode(var.scenario_key_layouts)
  }

  # With a customer managed key, Secrets Manager and DynamoDB decrypt with the caller's permissions: the roles that
  # read the secret, and those that use the table, need kms:Decrypt on exactly that key (and nothing more).
  # https://docs.aws.amazon.com/secretsmanager/latest/userguide/security-encryption.html
  # https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/encryption.usagenotes.html
  salesforce_secret_kms_policy = var.salesforce_secret_kms_key_arn == null ? {} : {
    salesforce_secret_key = {
      actions   = ["kms:Decrypt"]
      resources = [var.salesforce_secret_kms_key_arn]
    }
  }
  scenario_table_kms_policy = var.scenario_table_kms_key_arn == null ? {} : {
    scenario_table_key = {
      actions   = ["kms:Decrypt"]
      resources = [var.scenario_table_kms_key_arn]
    }
  }

  salesforce_policy = merge({
    salesforce_secret = {
      actions   = ["secretsmanager:GetSecretValue"]
      resources = [var.salesforce_secret_arn]
    }
  }, local.salesforce_secret_kms_policy)

  # The workflow tasks' idempotency records (lambda_src/atlas_shared/idempotency.py) live in the scenario table:
  # Powertools' DynamoDB persistence layer uses exactly these four actions.
  idempotency_environment = {
    IDEMPOTENCY_TABLE_NAME = local.scenario_table_name
  }
  # With a customer managed table key, these roles use the table too: kms:Decrypt on it as well.
  idempotency_policy = merge({
    idempotency_record = {
      actions   = ["dynamodb:DeleteItem", "dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem"]
      resources = [var.scenario_table_arn]
    }
  }, local.scenario_table_kms_policy)

  # Everything a function needs beyond its code: defaults, environment (Terraform variable ->
  # Lambda environment variable -> the handlers' settings object) and least-privilege grants.
  function_defaults = {
    LexFulfillmentHandler = {
      description                       = "Lex V2 code hook: answers each turn with Bedrock, reads Salesforce"
      memory_size                       = 512
      timeout                           = 30
      provisioned_concurrent_executions = 1
      environment = merge(local.salesforce_environment, local.scenario_key_environment, {
        SCENARIO_TABLE_NAME        = local.scenario_table_name
        BEDROCK_MAX_TOKENS         = tostring(var.bedrock.turn.max_tokens)
        BEDROCK_TEMPERATURE        = tostring(var.bedrock.turn.temperature)
        BEDROCK_MAX_SENTENCES      = tostring(var.bedrock.turn.max_sentences)
        BEDROCK_STREAM             = tostring(var.bedrock.turn.streaming)
        CONVERSATION_HISTORY_TURNS = tostring(var.conversation_history_turns)
        INTERACTION_KEY_ATTRIBUTES = jsonencode(var.interaction_key_attributes)
      }, local.bedrock_environment)
      policy_statements = merge(local.salesforce_policy, local.scenario_table_kms_policy, {
        scenario_table = {
          actions   = ["dynamodb:GetItem"]
          resources = [var.scenario_table_arn]
        }
        # Converse needs bedrock:InvokeModel, ConverseStream bedrock:InvokeModelWithResponseStream (bedrock.tf).
        bedrock_model = {
          actions   = [var.bedrock.turn.streaming ? "bedrock:InvokeModelWithResponseStream" : "bedrock:InvokeModel"]
          resources = local.bedrock_model_resources
        }
      })
    }
    GenerateDynamicScenarioHandler = {
      description                       = "Step Functions task: writes the per-call dynamic scenario and greeting"
      memory_size                       = 512
      timeout                           = 60
      provisioned_concurrent_executions = 0
      environment = merge(local.scenario_key_environment, {
        SCENARIO_TABLE_NAME = local.scenario_table_name
        BEDROCK_MAX_TOKENS  = tostring(var.bedrock.scenario.max_tokens)
        BEDROCK_TEMPERATURE = tostring(var.bedrock.scenario.temperature)
      }, local.bedrock_environment)
      policy_statements = merge(local.scenario_table_kms_policy, {
        scenario_table = {
          actions   = ["dynamodb:PutItem"]
          resources = [var.scenario_table_arn]
        }
        bedrock_model = {
          actions   = ["bedrock:InvokeModel"] # Converse: the scenario needs the whole JSON answer
          resources = local.bedrock_model_resources
        }
      })
    }
    CreateLeadHandler = {
      description                       = "Step Functions task: creates the Salesforce Lead"
      memory_size                       = 256
      timeout                           = 30
      provisioned_concurrent_executions = 0
      environment = merge(local.salesforce_environment, local.idempotency_environment, var.salesforce_lead_external_id_field == null ? {} : {
        SALESFORCE_LEAD_EXTERNAL_ID_FIELD = var.salesforce_lead_external_id_field
      })
      policy_statements = merge(local.salesforce_policy, local.idempotency_policy)
    }
    # timeout 60: Connect's 25 s worst case, the idempotency record's PutItem and final write (9 s each), 2 s margin.
    InvokeOutboundCallHandler = {
      description                       = "Step Functions task: starts the outbound Amazon Connect call"
      memory_size                       = 256
      timeout                           = 60
      provisioned_concurrent_executions = 0
      environment = merge(local.idempotency_environment, { for k, v in {
        CONNECT_INSTANCE_ID         = var.connect.instance_id
        CONNECT_CONTACT_FLOW_ID     = var.connect.contact_flow_id
        CONNECT_QUEUE_ID            = var.connect.queue_id
        CONNECT_SOURCE_PHONE_NUMBER = var.connect.source_phone_number
      } : k => v if v != null })
      policy_statements = merge(local.idempotency_policy, {
        connect_outbound = {
          actions   = ["connect:StartOutboundVoiceContact"]
          resources = ["${local.connect_instance}/contact/*"]
        }
      })
    }
    UpdateLeadHandler = {
      description                       = "Step Functions task: records the call outcome on the Salesforce Lead"
      memory_size                       = 256
      timeout                           = 30
      provisioned_concurrent_executions = 0
      environment                       = merge(local.salesforce_environment, local.idempotency_environment)
      policy_statements                 = merge(local.salesforce_policy, local.idempotency_policy)
    }
  }

  functions = {
    for name, d in local.function_defaults : name => {
      function_name                     = "${var.name_prefix}${name}${var.name_suffix}"
      description                       = d.description
      memory_size                       = coalesce(try(var.functions[name].memory_size, null), d.memory_size)
      timeout                           = coalesce(try(var.functions[name].timeout, null), d.timeout)
      provisioned_concurrent_executions = name == "LexFulfillmentHandler" && var.provisioned_concurrency_autoscaling.enabled ? 0 : coalesce(try(var.functions[name].provisioned_concurrent_executions, null), d.provisioned_concurrent_executions)
      snap_start                        = coalesce(try(var.functions[name].snap_start, null), false)
      reserved_concurrent_executions    = coalesce(try(var.functions[name].reserved_concurrent_executions, null), -1)
      alias_function_version            = try(var.functions[name].alias_function_version, null)
      environment                       = merge(local.common_environment, d.environment)
      policy_statements                 = d.policy_statements

      # On by default for LexFulfillmentHandler, the one with provisioned concurrency (README "Deploy pipeline").
      wait_for_provisioned_concurrency_after_version_move = coalesce(try(var.functions[name].wait_for_provisioned_concurrency_after_version_move, null), name == "LexFulfillmentHandler")
    }
  }
}

module "lambda_function" {
  source   = "./modules/lambda_function"
  for_each = local.functions

  function_name    = each.value.function_name
  description      = each.value.description
  filename         = "${local.manifest_dir}/${local.manifest.functions[each.key].zip_path}"
  source_code_hash = local.manifest.functions[each.key].source_code_hash
  handler          = local.manifest.functions[each.key].handler
  runtime          = local.manifest.functions[each.key].runtime
  architecture     = local.manifest.functions[each.key].architecture

  memory_size                       = each.value.memory_size
  timeout                           = each.value.timeout
  environment_variables             = each.value.environment
  tracing_mode                      = "Active"
  alias_name                        = "live"
  alias_function_version            = each.value.alias_function_version
  provisioned_concurrent_executions = each.value.provisioned_concurrent_executions
  snap_start                        = each.value.snap_start
  reserved_concurrent_executions    = each.value.reserved_concurrent_executions
  policy_statements                 = each.value.policy_statements

  # Deploy waits (weights cleared, provisioned concurrency READY) run on the apply machine like the code hook.
  wait_for_provisioned_concurrency_after_version_move = each.value.wait_for_provisioned_concurrency_after_version_move
  python_executable                                   = var.lex_code_hook_python
  script_environment                                  = var.lex_code_hook_environment
  assume_role_arn                                     = var.lex_code_hook_role_arn

  log_retention_in_days = var.log_retention_in_days
  kms_key_arn           = var.kms_key_arn
  tags                  = var.tags
}

module "lex_code_hook" {
  source = "./modules/lex_code_hook"
  count  = var.lex == null ? 0 : 1

  bot_id       = var.lex.bot_id
  bot_alias_id = var.lex.bot_alias_id
  locale_ids   = var.lex.locale_ids
  bot_version  = var.lex.bot_version

  code_hook_on_removal = var.lex.code_hook_on_removal

  lambda_function_name = module.lambda_function["LexFulfillmentHandler"].function_name
  lambda_alias_name    = module.lambda_function["LexFulfillmentHandler"].alias_name
  # Known only once the alias has no routing weights and its provisioned concurrency is READY.
  lambda_alias_arn = module.lambda_function["LexFulfillmentHandler"].ready_alias_arn

  python_executable  = var.lex_code_hook_python
  script_environment = var.lex_code_hook_environment
  assume_role_arn    = var.lex_code_hook_role_arn
}

module "workflow" {
  source = "./modules/workflow"
  count  = var.workflow.enabled ? 1 : 0

  name                = "${var.name_prefix}AtlasEngineWorkflow${var.name_suffix}"
  definition_template = var.workflow.definition_template
  function_alias_arns = {
    create_lead               = module.lambda_function["CreateLeadHandler"].alias_arn
    generate_dynamic_scenario = module.lambda_function["GenerateDynamicScenarioHandler"].alias_arn
    invoke_outbound_call      = module.lambda_function["InvokeOutboundCallHandler"].alias_arn
    update_lead               = module.lambda_function["UpdateLeadHandler"].alias_arn
  }
  failed_leads_table_arn = var.scenario_table_arn
  log_level              = var.workflow.log_level
  log_retention_in_days  = var.log_retention_in_days
  kms_key_arn            = var.kms_key_arn
  tags                   = var.tags
}

module "monitoring" {
  source = "./modules/monitoring"

  name = "${var.name_prefix}AtlasEngine${var.name_suffix}"
  functions = {
    for name, f in module.lambda_function : name => {
      function_name                     = f.function_name
      alias_name                        = f.alias_name
      log_group_name                    = f.log_group_name
      provisioned_concurrent_executions = f.provisioned_concurrent_executions
      provisioned_concurrency_autoscaling = name == "LexFulfillmentHandler" && var.provisioned_concurrency_autoscaling.enabled ? {
        min_capacity = var.provisioned_concurrency_autoscaling.min_capacity
        max_capacity = var.provisioned_concurrency_autoscaling.max_capacity
      } : null
    }
  }
  lex_function_key  = "LexFulfillmentHandler"
  state_machine_arn = var.workflow.enabled ? module.workflow[0].state_machine_arn : null
  # The ARN is unknown until the state machine exists; the alarm count must be known at plan time.
  state_machine_enabled = var.workflow.enabled
  bedrock_model_id      = var.bedrock.model_id
  metrics_namespace     = var.metrics_namespace
  dashboard_enabled     = var.dashboard_enabled
  alarms                = var.alarms
  tags                  = var.tags
}
