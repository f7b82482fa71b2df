variable "region" {
  description = "AWS region of the bucket and the build hosts."
  type        = string
  default     = "eu-west-1"
}

variable "prefix" {
  description = "Key prefix of the store inside the bucket."
  type        = string
  default     = "coffer/"
}

variable "kms_key_arn" {
  description = "Optional KMS key for SSE-KMS; null selects SSE-S3."
  type        = string
  default     = null
}

variable "tags" {
  description = "Tags applied to every resource."
  type        = map(string)
  default     = { project = "coffer" }
}
