terraform {
  required_version = ">= 1.5.0, < 2.0.0"

  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = "~> 6.40"
    }
  }
}

# LocalStack accepts any credentials; these are its conventional test values, not secrets.
provider "aws" {
  region     = "us-east-1"
  access_key = "test"
  secret_key = "test"

  s3_use_path_style           = true
  skip_credentials_validation = true
  skip_metadata_api_check     = true
  skip_requesting_account_id  = true

  endpoints {
    s3  = var.localstack_endpoint
    iam = var.localstack_endpoint
    sts = var.localstack_endpoint
    kms = var.localstack_endpoint
  }
}

resource "aws_kms_key" "store" {
  count       = var.use_kms ? 1 : 0
  description = "Coffer store key (LocalStack)"
}

module "coffer" {
  source = "../../modules/coffer-bucket"

  bucket_name       = var.bucket_name
  prefix            = var.prefix
  kms_key_arn       = var.use_kms ? aws_kms_key.store[0].arn : null
  force_destroy     = true
  client_endpoint   = var.localstack_endpoint
  client_path_style = true
}
