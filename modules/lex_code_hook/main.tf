# Points an existing Lex V2 bot alias's locale code hooks at a qualified Lambda ARN.
#
# The hashicorp/aws provider has no Lex V2 bot alias resource (hashicorp/terraform-provider-aws#35780), so the
# alias is changed by scripts/lex_code_hook.py: a read-modify-write of DescribeBotAlias/UpdateBotAlias that keeps
# everything it does not own. terraform_data re-runs it whenever anything that decides the result changes.

data "aws_partition" "current" {}
data "aws_region" "current" {}
data "aws_caller_identity" "current" {}

locals {
  partition  = data.aws_partition.current.partition
  region     = data.aws_region.current.name
  account_id = data.aws_caller_identity.current.account_id

  # Format from https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazonlexv2.html
  bot_alias_arn = "arn:${local.partition}:lex:${local.region}:${local.account_id}:bot-alias/${var.bot_id}/${var.bot_alias_id}"

  script_path = "${path.module}/scripts/lex_code_hook.py"

  # What AWS has now, read at plan time through Cloud Control (AWS::Lex::BotAlias). Properties follow the
  # CloudFormation schema: BotAliasLocaleSettings is a list of {LocaleId, BotAliasLocaleSetting}.
  observed         = jsondecode(data.aws_cloudcontrolapi_resource.bot_alias.properties)
  observed_locales = { for item in try(local.observed.BotAliasLocaleSettings, []) : item.LocaleId => item.BotAliasLocaleSetting }
  observed_hooks = {
    for l in var.locale_ids : l => try({
      lambdaARN                = local.observed_locales[l].CodeHookSpecification.LambdaCodeHook.LambdaArn
      codeHookInterfaceVersion = local.observed_locales[l].CodeHookSpecification.LambdaCodeHook.CodeHookInterfaceVersion
    }, null)
  }
  # Locales whose code hook is not what this module sets (console or CLI edits, another pipeline).
  drifted_locales = [for l in var.locale_ids : l if !(
    try(local.observed_locales[l].Enabled, false) == true &&
    try(local.observed_hooks[l].lambdaARN, "") == var.lambda_alias_arn &&
    try(local.observed_hooks[l].codeHookInterfaceVersion, "") == var.code_hook_interface_version
  )]
  bot_version_drifted = var.bot_version != null && try(local.observed.BotVersion, "") != var.bot_version
  in_sync             = length(local.drifted_locales) == 0 && !local.bot_version_drifted

  # Known and "as wanted" when AWS matches; otherwise unknown at plan time (timestamp() is only known during
  # apply), which forces terraform_data.code_hook to be replaced, i.e. the script to run again, and becomes
  # "as wanted" once applied. A value derived from the observed ARN would be stored and differ again on the
  # next plan, after the repair: one more needless replacement. This way the plan after a repair is empty.
  code_hook_in_aws = local.in_sync ? "as wanted" : "${substr(timestamp(), 0, 0)}as wanted"

  removal_argv = concat(
    [var.python_executable, local.script_path],
    ["--region", local.region, "--bot-id", var.bot_id, "--bot-alias-id", var.bot_alias_id],
    ["--code-hook-interface-version", var.code_hook_interface_version],
    var.assume_role_arn == null ? [] : ["--role-arn", var.assume_role_arn],
    ["--remove", "--on-removal", var.code_hook_on_removal],
  )
}

# Read with Cloud Control GetResource, which calls lex:DescribeBotAlias with the provider's credentials. The
# hashicorp/external data source (the module's script in a read mode) would work as well, but that provider is
# not available to this project's mirror and would add a second provider to every root; this data source is
# part of hashicorp/aws.
data "aws_cloudcontrolapi_resource" "bot_alias" {
  type_name  = "AWS::Lex::BotAlias"
  identifier = "${var.bot_alias_id}|${var.bot_id}"
}

# The same read once the script has run (deferred to apply time whenever terraform_data.code_hook changes), so
# the outputs report what AWS has after the apply rather than what was last written.
data "aws_cloudcontrolapi_resource" "bot_alias_applied" {
  type_name  = "AWS::Lex::BotAlias"
  identifier = "${var.bot_alias_id}|${var.bot_id}"

  depends_on = [terraform_data.code_hook]
}

locals {
  applied_properties = try(jsondecode(data.aws_cloudcontrolapi_resource.bot_alias_applied.properties), {})
  applied_locales    = { for item in try(local.applied_properties.BotAliasLocaleSettings, []) : item.LocaleId => item.BotAliasLocaleSetting }
  applied_lambda_arns = {
    for l in var.locale_ids : l => try(local.applied_locales[l].CodeHookSpecification.LambdaCodeHook.LambdaArn, null)
  }
  applied_drift = concat(
    [for l in var.locale_ids : "${l}: ${coalesce(local.applied_lambda_arns[l], "no Lambda code hook")}" if !(
      try(local.applied_locales[l].Enabled, false) == true &&
      local.applied_lambda_arns[l] == var.lambda_alias_arn &&
      try(local.applied_locales[l].CodeHookSpecification.LambdaCodeHook.CodeHookInterfaceVersion, "") == var.code_hook_interface_version
    )],
    var.bot_version != null && try(local.applied_properties.BotVersion, "") != var.bot_version ? ["botVersion: ${try(local.applied_properties.BotVersion, "unset")}"] : [],
  )
}

resource "aws_lambda_permission" "this" {
  statement_id  = "AllowLexV2BotAlias-${var.bot_alias_id}"
  action        = "lambda:InvokeFunction"
  function_name = var.lambda_function_name
  qualifier     = var.lambda_alias_name
  principal     = "lexv2.amazonaws.com"
  source_arn    = local.bot_alias_arn
}

resource "terraform_data" "code_hook" {
  triggers_replace = {
    bot_id                      = var.bot_id
    bot_alias_id                = var.bot_alias_id
    bot_alias_arn               = local.bot_alias_arn
    locale_ids                  = var.locale_ids
    lambda_arn                  = var.lambda_alias_arn
    bot_version                 = var.bot_version
    code_hook_interface_version = var.code_hook_interface_version
    assume_role_arn             = var.assume_role_arn
    script_sha256               = filesha256(local.script_path)
    # "as wanted" -> (known after apply) in a plan means AWS has drifted from what this module sets (a check
    # block could name the ARN AWS has, but its warning would fail every `terraform test` run before adoption,
    # and a data source scoped to it would make every plan non-empty). The apply prints what it changes.
    code_hook_in_aws = local.code_hook_in_aws
  }

  provisioner "local-exec" {
    # Arguments go through `interpreter` as a list, not a shell string, so no quoting is needed on any OS;
    # local-exec appends `command` (the Lambda ARN, the script's positional argument) last.
    interpreter = concat(
      [var.python_executable, local.script_path],
      ["--region", local.region, "--bot-id", var.bot_id, "--bot-alias-id", var.bot_alias_id],
      flatten([for l in var.locale_ids : ["--locale", l]]),
      var.bot_version == null ? [] : ["--bot-version", var.bot_version],
      ["--code-hook-interface-version", var.code_hook_interface_version],
      # The provider's assume_role does not reach local-exec; the script assumes the role itself.
      var.assume_role_arn == null ? [] : ["--role-arn", var.assume_role_arn],
    )
    command     = var.lambda_alias_arn
    environment = var.script_environment
  }

  # Lex checks nothing at UpdateBotAlias time, but the first turn after it fails unless Lex may invoke the alias.
  depends_on = [aws_lambda_permission.this, terraform_data.adoption]

  lifecycle {
    precondition {
      # An alias already calling this very ARN when it was adopted leaves nothing to restore on removal; that is
      # only an error when removal would restore (an earlier module version, which recorded nothing, set it).
      condition = var.code_hook_on_removal != "restore" || alltrue([
        for l, a in terraform_data.adoption : try(a.triggers_replace.recorded.lambdaARN, "") != var.lambda_alias_arn
      ])
      error_message = "The bot alias already called ${var.lambda_alias_arn} when this module adopted it, so there is no earlier code hook to put back on removal. Set code_hook_on_removal (root: lex.code_hook_on_removal) to \"keep\" or to the Lambda ARN the alias should call after removal."
    }
  }
}

# One record per locale of the code hook the alias had when this module adopted it, and the removal that puts it
# back. The key holds the bot and alias ids, so another bot_alias_id removes the old alias's record (restoring
# it) and records the new one. triggers_replace.recorded is kept from creation (ignore_changes): later reads see
# this module's own ARN. A destroy-time provisioner can only use self, so everything it needs is in self.
resource "terraform_data" "adoption" {
  for_each = toset([for l in var.locale_ids : "${var.bot_id}/${var.bot_alias_id}/${l}"])

  triggers_replace = {
    locale_id = element(split("/", each.key), 2)
    recorded  = local.observed_hooks[element(split("/", each.key), 2)]
  }

  input = {
    # What removal will do: restore the recorded hook, keep the alias as it is, or point it at this ARN.
    on_removal  = var.code_hook_on_removal
    lambda_arn  = var.lambda_alias_arn
    argv        = local.removal_argv
    environment = var.script_environment
  }

  provisioner "local-exec" {
    when = destroy
    # The script puts back the recorded hook only where the locale still calls lambda_arn, checks with
    # GetFunction that the recorded function exists (or fails naming code_hook_on_removal), and verifies.
    interpreter = concat(
      self.input.argv,
      ["--locale", self.triggers_replace.locale_id],
      ["--recorded", jsonencode({ (self.triggers_replace.locale_id) = self.triggers_replace.recorded })],
    )
    command     = self.input.lambda_arn
    environment = self.input.environment
  }

  lifecycle {
    ignore_changes = [triggers_replace]
  }

  # Destroyed (and so restored) before the invoke permission and the function go.
  depends_on = [aws_lambda_permission.this]
}
