variable "localstack_endpoint" {
  description = "URL of the LocalStack edge port."
  type        = string
  default     = "http://localhost:4566"
}

variable "bucket_name" {
  description = "Name of the bucket to create in LocalStack."
  type        = string
  default     = "coffer-local"
}

variable "prefix" {
  description = "Key prefix of the store inside the bucket."
  type        = string
  default     = "coffer/"
}

variable "use_kms" {
  description = "Whether to create a KMS key in LocalStack and encrypt the bucket with SSE-KMS."
  type        = bool
  default     = false
}
