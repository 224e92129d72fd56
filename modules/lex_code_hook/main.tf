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
  depends_on = [aws_lambda_permission.this]
}
