variable "bucket_name" {
  description = "Exact name of the bucket. Leave null to let AWS generate a unique name from bucket_name_prefix."
  type        = string
  default     = null

  validation {
    condition     = var.bucket_name == null || can(regex("^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$", var.bucket_name))
    error_message = "The bucket_name must be 3-63 characters of lower-case letters, digits, dots and hyphens, starting and ending with a letter or digit."
  }
}

variable "bucket_name_prefix" {
  description = "Prefix of the generated bucket name, used only when bucket_name is null."
  type        = string
  default     = "coffer-"

  validation {
    condition     = can(regex("^[a-z0-9][a-z0-9.-]{0,36}$", var.bucket_name_prefix))
    error_message = "The bucket_name_prefix must be 1-37 characters of lower-case letters, digits, dots and hyphens, starting with a letter or digit."
  }
}

variable "force_destroy" {
  description = "Whether terraform destroy may delete a bucket that still holds objects. Off: a store's blobs are not disposable."
  type        = bool
  default     = false
}

variable "prefix" {
  description = "Key prefix of the store inside the bucket: empty, or path segments each ending in a slash (for example \"coffer/\" or \"farm/eu/\"). Several stores may share one bucket under different prefixes."
  type        = string
  default     = "coffer/"

  validation {
    # Restricted to characters that mean nothing to IAM or S3 wildcards, so the policies scope exactly this prefix.
    condition     = can(regex("^([A-Za-z0-9][A-Za-z0-9._-]*/)*$", var.prefix)) && length(var.prefix) <= 512
    error_message = "The prefix must be empty or segments of letters, digits, '.', '_' and '-' (not starting with '.', '_' or '-'), each ending in '/', at most 512 characters."
  }
}

variable "kms_key_arn" {
  description = "ARN of a KMS key for SSE-KMS default encryption (with S3 bucket keys enabled). Null selects SSE-S3 (AES256)."
  type        = string
  default     = null

  validation {
    condition     = var.kms_key_arn == null || can(regex("^arn:aws[a-z-]*:kms:[a-z0-9-]+:[0-9]{12}:key/[A-Za-z0-9-]+$", var.kms_key_arn))
    error_message = "The kms_key_arn must be a KMS key ARN (arn:aws:kms:<region>:<account>:key/<id>) or null."
  }
}

variable "versioning_enabled" {
  description = "Whether to enable S3 versioning. Deleted blobs and overwritten index records then stay as noncurrent versions for noncurrent_version_expiration_days, and delete markers left alone are removed."
  type        = bool
  default     = false
}

variable "noncurrent_version_expiration_days" {
  description = "With versioning: days after which a noncurrent version of any object under the store prefix expires (a deleted blob, an overwritten index record). Current objects are never expired."
  type        = number
  default     = 30

  validation {
    condition     = var.noncurrent_version_expiration_days >= 1 && var.noncurrent_version_expiration_days <= 3650 && floor(var.noncurrent_version_expiration_days) == var.noncurrent_version_expiration_days
    error_message = "The noncurrent_version_expiration_days must be a whole number of days from 1 to 3650."
  }
}

variable "access_log_bucket" {
  description = "Name of an existing bucket that receives S3 server access logs of the store's bucket (it must allow the S3 logging service to write). Null turns access logging off."
  type        = string
  default     = null

  validation {
    condition     = var.access_log_bucket == null || can(regex("^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$", var.access_log_bucket))
    error_message = "The access_log_bucket must be an S3 bucket name (3-63 lowercase letters, digits, '.' and '-') or null."
  }
}

variable "access_log_prefix" {
  description = "Key prefix of the access log objects in access_log_bucket. Null means \"<bucket name>/\"."
  type        = string
  default     = null

  validation {
    condition     = var.access_log_prefix == null || can(regex("^[A-Za-z0-9!_.*'()/-]{0,512}$", var.access_log_prefix))
    error_message = "The access_log_prefix must be at most 512 characters of letters, digits and !_.*'()/- or null."
  }
}

variable "abort_incomplete_multipart_days" {
  description = "Days after which S3 aborts a multipart upload under the store prefix that was never completed (a crashed ingest, copy or put of a file)."
  type        = number
  default     = 7

  validation {
    condition     = var.abort_incomplete_multipart_days >= 1 && var.abort_incomplete_multipart_days <= 365 && floor(var.abort_incomplete_multipart_days) == var.abort_incomplete_multipart_days
    error_message = "The abort_incomplete_multipart_days must be a whole number of days from 1 to 365."
  }
}

variable "ingest_expiration_days" {
  description = "Days after their last write at which objects under <prefix>ingest/ (ingest records and partial data of abandoned ingests) expire. Must not be shorter than abort_incomplete_multipart_days."
  type        = number
  default     = 30

  validation {
    condition     = var.ingest_expiration_days >= 1 && var.ingest_expiration_days <= 3650 && floor(var.ingest_expiration_days) == var.ingest_expiration_days
    error_message = "The ingest_expiration_days must be a whole number of days from 1 to 3650."
  }
}

variable "create_iam_policies" {
  description = "Whether to create the reader, writer and admin IAM policies. The policy documents are output either way."
  type        = bool
  default     = true
}

variable "iam_policy_name_prefix" {
  description = "Prefix of the IAM policy names (<prefix>reader, <prefix>writer, <prefix>admin). Null derives it from the bucket name: coffer-<bucket>-."
  type        = string
  default     = null

  validation {
    condition     = var.iam_policy_name_prefix == null || can(regex("^[A-Za-z0-9+=,.@_-]{1,100}$", var.iam_policy_name_prefix))
    error_message = "The iam_policy_name_prefix must be 1-100 characters of letters, digits and +=,.@_-."
  }
}

variable "iam_policy_path" {
  description = "IAM path of the created policies."
  type        = string
  default     = "/"

  validation {
    condition     = can(regex("^/([A-Za-z0-9+=,.@_-]+/)*$", var.iam_policy_path))
    error_message = "The iam_policy_path must begin and end with '/'."
  }
}

variable "client_endpoint" {
  description = "S3 endpoint URL written into coffer_config_json for clients (for example LocalStack's). Null means the AWS endpoint of the bucket's region. Provisioning does not use it."
  type        = string
  default     = null

  validation {
    condition     = var.client_endpoint == null || can(regex("^https?://[^/]+/?$", var.client_endpoint))
    error_message = "The client_endpoint must be an http or https URL without a path, or null."
  }
}

variable "client_path_style" {
  description = "Whether clients address the bucket path-style (endpoint/bucket/key) instead of virtual-host style; written into coffer_config_json."
  type        = bool
  default     = false
}

variable "tags" {
  description = "Tags applied to every resource that takes tags."
  type        = map(string)
  default     = {}
}
