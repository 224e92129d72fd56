terraform {
  required_version = ">= 1.5.0"

  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = ">= 5.32.0, < 7.0"
    }
  }

  # Keep state remote and locked in a pipeline. An example (S3 native locking needs Terraform >= 1.10;
  # older versions use dynamodb_table instead of use_lockfile). Values are your own; backends take no variables,
  # so pass them with `terraform init -backend-config=prod.s3.tfbackend` if you prefer.
  #
  # backend "s3" {
  #   bucket       = "my-org-terraform-state"
  #   key          = "atlas-engine/prod/terraform.tfstate"
  #   region       = "us-west-2"
  #   encrypt      = true
  #   use_lockfile = true
  # }
}

provider "aws" {
  region              = var.region
  allowed_account_ids = var.allowed_account_ids

  # A pipeline usually runs as a deployment role in the target account.
  dynamic "assume_role" {
    for_each = var.assume_role_arn == null ? [] : [var.assume_role_arn]
    content {
      role_arn     = assume_role.value
      session_name = "atlas-engine-${var.environment}"
    }
  }

  default_tags {
    tags = merge(var.tags, {
      Application = "AtlasEngine"
      Environment = var.environment
      ManagedBy   = "terraform"
    })
  }
}
