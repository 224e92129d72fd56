################################################################################
# Bedrock: the model id's form, the IAM each form needs, and the per-model facts (issue 8).
#
# Forms Bedrock's runtime takes as modelId (https://docs.aws.amazon.com/bedrock/latest/APIReference/API_runtime_Converse.html):
#   foundation-model id             anthropic.claude-haiku-5-5
#   system inference profile id     us.anthropic.claude-haiku-5-5 (prefixes: local.bedrock_profile_prefixes)
#   ARN of a foundation model, a (system) inference profile, an application inference profile or a provisioned model.
#
# Grants (https://docs.aws.amazon.com/bedrock/latest/userguide/inference-profiles-prereq.html): a profile needs the
# profile ARN plus the foundation model in every Region the profile routes to. Those Regions are read from Bedrock
# itself (GetInferenceProfile, through the aws_bedrock_inference_profile data source) rather than from a table
# kept here: the answer is exact for application inference profiles too, and follows AWS when a profile gains a
# Region. A global. profile also needs the Region-less foundation-model ARN
# (https://docs.aws.amazon.com/bedrock/latest/userguide/global-cross-region-inference.html).
################################################################################

locals {
  bedrock_profile_prefixes = ["us", "us-gov", "eu", "apac", "jp", "au", "ca", "global"]
  bedrock_arn_pattern      = "^arn:(aws[a-z-]*):bedrock:([a-z0-9-]*):([0-9]{12})?:(foundation-model|inference-profile|application-inference-profile|provisioned-model)/([A-Za-z0-9.:_-]+)$"
  bedrock_id_pattern       = "^[a-z0-9-]+\\.[A-Za-z0-9._:-]+$"

  bedrock_model_id = var.bedrock.model_id
  bedrock_arn      = try(regex(local.bedrock_arn_pattern, local.bedrock_model_id), null)
  bedrock_form = (
    local.bedrock_arn != null ? local.bedrock_arn[3] :
    contains(local.bedrock_profile_prefixes, split(".", local.bedrock_model_id)[0]) ? "inference-profile" : "foundation-model"
  )
  bedrock_name     = local.bedrock_arn != null ? local.bedrock_arn[4] : local.bedrock_model_id
  bedrock_prefix   = split(".", local.bedrock_name)[0]
  bedrock_is_geo   = local.bedrock_form == "inference-profile" && contains(local.bedrock_profile_prefixes, local.bedrock_prefix)
  bedrock_profiled = contains(["inference-profile", "application-inference-profile"], local.bedrock_form)

  bedrock_profile_model_arns = local.bedrock_profiled ? [for m in data.aws_bedrock_inference_profile.model[0].models : m.model_arn] : []

  # The foundation model behind the id: from the id itself, else from the profile's first model.
  bedrock_base_model_id = (
    local.bedrock_form == "foundation-model" ? local.bedrock_name :
    local.bedrock_is_geo ? join(".", slice(split(".", local.bedrock_name), 1, length(split(".", local.bedrock_name)))) :
    length(local.bedrock_profile_model_arns) > 0 ? reverse(split("/", local.bedrock_profile_model_arns[0]))[0] : null
  )

  bedrock_model_resources = distinct(concat(
    local.bedrock_arn != null ? [local.bedrock_model_id] : [],
    local.bedrock_arn == null && local.bedrock_form == "foundation-model" ? ["arn:${local.partition}:bedrock:${local.region}::foundation-model/${local.bedrock_model_id}"] : [],
    local.bedrock_arn == null && local.bedrock_form == "inference-profile" ? ["arn:${local.partition}:bedrock:${local.region}:${local.account_id}:inference-profile/${local.bedrock_model_id}"] : [],
    local.bedrock_profile_model_arns,
    local.bedrock_prefix == "global" && local.bedrock_form == "inference-profile" ? ["arn:${local.partition}:bedrock:::foundation-model/${local.bedrock_base_model_id}"] : [],
  ))

  # The one table of per-model facts, shared with the handlers (lambda_src/atlas_shared/models.py).
  bedrock_models = jsondecode(file("${path.module}/lambda_src/atlas_shared/models.json")).models
  bedrock_facts  = try(local.bedrock_models[local.bedrock_base_model_id], null)

  # Environment both Bedrock callers share; each adds its own generation settings in main.tf.
  bedrock_environment = merge(
    { BEDROCK_MODEL_ID = local.bedrock_model_id },
    local.bedrock_form == "application-inference-profile" && local.bedrock_base_model_id != null ? { BEDROCK_BASE_MODEL_ID = local.bedrock_base_model_id } : {},
    var.bedrock.latency_optimized ? { BEDROCK_LATENCY_OPTIMIZED = "true" } : {},
    var.bedrock.cache_system_prompt ? { BEDROCK_CACHE_SYSTEM_PROMPT = "true" } : {},
    var.bedrock.service_tier != null ? { BEDROCK_SERVICE_TIER = var.bedrock.service_tier } : {},
  )
}

# GetInferenceProfile: the models (one per Region) a system or application inference profile routes to.
data "aws_bedrock_inference_profile" "model" {
  count = local.bedrock_profiled ? 1 : 0

  inference_profile_id = local.bedrock_model_id

  lifecycle {
    postcondition {
      condition     = length(self.models) > 0
      error_message = "Bedrock's inference profile ${local.bedrock_model_id} lists no models, so no grant can be written for it."
    }
  }
}

# Settings checked against the model table at plan time (a variable's validation cannot read these locals: they
# derive from the variable). Holds nothing but the model id; costs nothing.
resource "terraform_data" "bedrock_settings" {
  input = local.bedrock_model_id

  lifecycle {
    precondition {
      condition     = !var.bedrock.latency_optimized || contains(try(local.bedrock_facts.latency_optimized_regions, []), local.region)
      error_message = "bedrock.latency_optimized: latency-optimized inference of ${coalesce(local.bedrock_base_model_id, local.bedrock_model_id)} is not offered in ${local.region} (lambda_src/atlas_shared/models.json lists models and Regions, from https://docs.aws.amazon.com/bedrock/latest/userguide/latency-optimized-inference.html)."
    }

    precondition {
      condition     = !var.bedrock.cache_system_prompt || try(local.bedrock_facts.prompt_cache_min_tokens, null) != null
      error_message = "bedrock.cache_system_prompt: ${coalesce(local.bedrock_base_model_id, local.bedrock_model_id)} takes no prompt-cache point (lambda_src/atlas_shared/models.json, from https://docs.aws.amazon.com/bedrock/latest/userguide/prompt-caching.html)."
    }
  }
}
