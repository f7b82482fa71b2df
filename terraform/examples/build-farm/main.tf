terraform {
  required_version = ">= 1.5.0, < 2.0.0"

  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = "~> 6.40"
    }
  }
}

provider "aws" {
  region = var.region
}

module "coffer" {
  source = "../../modules/coffer-bucket"

  bucket_name_prefix = "coffer-build-farm-"
  prefix             = var.prefix
  kms_key_arn        = var.kms_key_arn
  tags               = var.tags
}

data "aws_iam_policy_document" "build_host_assume_role" {
  statement {
    sid     = "Ec2AssumeRole"
    actions = ["sts:AssumeRole"]

    principals {
      type        = "Service"
      identifiers = ["ec2.amazonaws.com"]
    }
  }
}

# Build hosts ingest and commit blobs: they get the writer policy, never the admin one.
resource "aws_iam_role" "build_host" {
  name_prefix        = "coffer-build-host-"
  assume_role_policy = data.aws_iam_policy_document.build_host_assume_role.json
  tags               = var.tags
}

resource "aws_iam_role_policy_attachment" "build_host_writer" {
  role       = aws_iam_role.build_host.name
  policy_arn = module.coffer.writer_policy_arn
}

resource "aws_iam_instance_profile" "build_host" {
  name_prefix = "coffer-build-host-"
  role        = aws_iam_role.build_host.name
  tags        = var.tags
}
