terraform {
  required_version = ">= 1.5.0"

  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = ">= 5.32.0, < 7.0"
    }
  }
}

# Every service the stack uses is sent to one local emulator (moto in server mode). The keys are moto's fixed
# dummy credentials, not secrets; moto answers STS GetCallerIdentity (account 123456789012), so the account id
# is requested as on AWS.
provider "aws" {
  #checkov:skip=CKV_AWS_41:moto's documented dummy credentials ("test"), valid only against the local emulator.
  region     = var.region
  access_key = "test"
  secret_key = "test"

  skip_credentials_validation = true
  skip_metadata_api_check     = true
  skip_region_validation      = true
  s3_use_path_style           = true
  # The emulator is local: an error is an answer, not a network blip. Few retries make a call moto does not
  # implement fail in seconds instead of after the default 25 retries with backoff.
  max_retries = 3

  endpoints {
    bedrock        = var.endpoint_url
    cloudcontrol   = var.endpoint_url
    cloudwatch     = var.endpoint_url
    dynamodb       = var.endpoint_url
    iam            = var.endpoint_url
    lambda         = var.endpoint_url
    lexv2models    = var.endpoint_url
    logs           = var.endpoint_url
    secretsmanager = var.endpoint_url
    sfn            = var.endpoint_url
    sns            = var.endpoint_url
    sts            = var.endpoint_url
    xray           = var.endpoint_url
  }

  default_tags {
    tags = {
      Environment = "local"
      ManagedBy   = "terraform"
    }
  }
}
