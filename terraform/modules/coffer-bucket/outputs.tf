output "bucket_name" {
  description = "Name of the bucket."
  value       = aws_s3_bucket.this.id
}

output "bucket_arn" {
  description = "ARN of the bucket."
  value       = aws_s3_bucket.this.arn
}

output "region" {
  description = "Region of the bucket."
  value       = aws_s3_bucket.this.region
}

output "prefix" {
  description = "Key prefix of the store inside the bucket (empty or ending in '/')."
  value       = var.prefix
}

output "reader_policy_arn" {
  description = "ARN of the reader IAM policy, or null when create_iam_policies is false."
  value       = try(aws_iam_policy.role["reader"].arn, null)
}

output "writer_policy_arn" {
  description = "ARN of the writer (build host) IAM policy, or null when create_iam_policies is false."
  value       = try(aws_iam_policy.role["writer"].arn, null)
}

output "admin_policy_arn" {
  description = "ARN of the admin (gc, fsck) IAM policy, or null when create_iam_policies is false."
  value       = try(aws_iam_policy.role["admin"].arn, null)
}

output "reader_policy_json" {
  description = "The reader policy document, for attaching elsewhere (for example as an inline policy)."
  value       = data.aws_iam_policy_document.role["reader"].json
}

output "writer_policy_json" {
  description = "The writer (build host) policy document."
  value       = data.aws_iam_policy_document.role["writer"].json
}

output "admin_policy_json" {
  description = "The admin (gc, fsck) policy document."
  value       = data.aws_iam_policy_document.role["admin"].json
}

output "coffer_config_json" {
  description = "The Coffer client configuration document (JSON) that the library and the CLI read; see the README for its format."
  value       = jsonencode(local.coffer_config)
}
