# Provisioned concurrency that follows the traffic (issue 9 section 3): Application Auto Scaling on
# LexFulfillmentHandler's `live` alias, enabled with var.provisioned_concurrency_autoscaling.
#
# Who owns the count: with autoscaling on, Application Auto Scaling does. The root passes 0 to
# modules/lambda_function for LexFulfillmentHandler, so the module creates no aws_lambda_provisioned_concurrency_config
# that would reset the count the scaler chose on every apply; registering the alias as a scalable target sets its
# provisioned concurrency to min_capacity ("it changes the resource's current capacity to a value that is inside of
# this range": https://docs.aws.amazon.com/autoscaling/application/APIReference/API_RegisterScalableTarget.html),
# and target tracking on LambdaProvisionedConcurrencyUtilization moves it between min_capacity and max_capacity
# (https://docs.aws.amazon.com/lambda/latest/dg/provisioned-concurrency.html#managing-provisioned-concurency).
# Scheduled actions change min_capacity and max_capacity at set times, e.g. calling hours in a time zone
# (https://docs.aws.amazon.com/autoscaling/application/userguide/scheduled-scaling-using-cron-expressions.html).
# Setting functions.LexFulfillmentHandler.provisioned_concurrent_executions above 0 as well is refused below.
# Switching an existing deployment deletes the module's config and registers the target in one apply, in no order
# Terraform guarantees (a removed resource's dependents are applied before it is destroyed, so no dependency can
# put the registration last); README "Provisioned concurrency that follows the traffic" gives the two-apply switch.
#
# Lambda identifies the alias as function:<function name>:<alias name>, scalable dimension
# lambda:function:ProvisionedConcurrency (https://docs.aws.amazon.com/autoscaling/application/userguide/services-that-can-integrate-lambda.html);
# Application Auto Scaling creates its service-linked role AWSServiceRoleForApplicationAutoScaling_LambdaConcurrency
# on first use, so the deploying identity needs iam:CreateServiceLinkedRole once per account.

locals {
  lex_autoscaling = var.provisioned_concurrency_autoscaling
  lex_function    = module.lambda_function["LexFulfillmentHandler"]
  # What the caller asked of the fixed count (null: the default), to refuse both at once.
  lex_fixed_provisioned_concurrency = try(var.functions["LexFulfillmentHandler"].provisioned_concurrent_executions, null)
  lex_reserved_concurrency          = coalesce(try(var.functions["LexFulfillmentHandler"].reserved_concurrent_executions, null), -1)
  lex_autoscaling_peak = max(concat(
    [local.lex_autoscaling.max_capacity],
    [for a in values(local.lex_autoscaling.scheduled_actions) : a.max_capacity],
  )...)
}

resource "aws_appautoscaling_target" "lex_provisioned_concurrency" {
  count = local.lex_autoscaling.enabled ? 1 : 0

  service_namespace  = "lambda"
  scalable_dimension = "lambda:function:ProvisionedConcurrency"
  resource_id        = "function:${local.lex_function.function_name}:${local.lex_function.alias_name}"
  min_capacity       = local.lex_autoscaling.min_capacity
  max_capacity       = local.lex_autoscaling.max_capacity

  tags = var.tags

  lifecycle {
    precondition {
      condition     = local.lex_fixed_provisioned_concurrency == null || local.lex_fixed_provisioned_concurrency == 0
      error_message = "LexFulfillmentHandler: provisioned_concurrency_autoscaling is enabled, so Application Auto Scaling owns the provisioned concurrency of the live alias; remove functions.LexFulfillmentHandler.provisioned_concurrent_executions (${coalesce(local.lex_fixed_provisioned_concurrency, 0)}) and set provisioned_concurrency_autoscaling.min_capacity instead."
    }
    precondition {
      condition     = !coalesce(try(var.functions["LexFulfillmentHandler"].snap_start, null), false)
      error_message = "LexFulfillmentHandler: SnapStart cannot be combined with provisioned concurrency, which provisioned_concurrency_autoscaling allocates; set snap_start = false or disable the autoscaling."
    }
    precondition {
      condition     = local.lex_reserved_concurrency < 0 || local.lex_autoscaling_peak <= local.lex_reserved_concurrency
      error_message = "LexFulfillmentHandler: provisioned_concurrency_autoscaling may reach ${local.lex_autoscaling_peak} provisioned environments (max_capacity, or a scheduled action's), more than its reserved_concurrent_executions (${local.lex_reserved_concurrency}); Lambda refuses provisioned concurrency above reserved concurrency."
    }
  }
}

resource "aws_appautoscaling_policy" "lex_provisioned_concurrency" {
  count = local.lex_autoscaling.enabled ? 1 : 0

  name               = "${local.lex_function.function_name}-provisioned-concurrency-utilization"
  policy_type        = "TargetTrackingScaling"
  service_namespace  = aws_appautoscaling_target.lex_provisioned_concurrency[0].service_namespace
  scalable_dimension = aws_appautoscaling_target.lex_provisioned_concurrency[0].scalable_dimension
  resource_id        = aws_appautoscaling_target.lex_provisioned_concurrency[0].resource_id

  target_tracking_scaling_policy_configuration {
    target_value       = local.lex_autoscaling.target_utilization
    scale_in_cooldown  = local.lex_autoscaling.scale_in_cooldown_seconds
    scale_out_cooldown = local.lex_autoscaling.scale_out_cooldown_seconds

    predefined_metric_specification {
      predefined_metric_type = "LambdaProvisionedConcurrencyUtilization"
    }
  }
}

resource "aws_appautoscaling_scheduled_action" "lex_provisioned_concurrency" {
  for_each = local.lex_autoscaling.enabled ? local.lex_autoscaling.scheduled_actions : {}

  name               = "${local.lex_function.function_name}-${each.key}"
  service_namespace  = aws_appautoscaling_target.lex_provisioned_concurrency[0].service_namespace
  scalable_dimension = aws_appautoscaling_target.lex_provisioned_concurrency[0].scalable_dimension
  resource_id        = aws_appautoscaling_target.lex_provisioned_concurrency[0].resource_id
  schedule           = each.value.schedule
  timezone           = each.value.timezone

  scalable_target_action {
    min_capacity = each.value.min_capacity
    max_capacity = each.value.max_capacity
  }

  # Application Auto Scaling refuses concurrent changes to one scalable target (ConcurrentUpdateException);
  # after the policy at least, so only the scheduled actions themselves can overlap (README: -parallelism=1).
  depends_on = [aws_appautoscaling_policy.lex_provisioned_concurrency]
}
