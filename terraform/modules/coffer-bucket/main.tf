resource "aws_s3_bucket" "this" {
  bucket        = var.bucket_name
  bucket_prefix = var.bucket_name == null ? var.bucket_name_prefix : null
  force_destroy = var.force_destroy
  tags          = var.tags
}

resource "aws_s3_bucket_public_access_block" "this" {
  bucket = aws_s3_bucket.this.id

  block_public_acls       = true
  block_public_policy     = true
  ignore_public_acls      = true
  restrict_public_buckets = true
}

# ACLs are disabled: every object belongs to the bucket owner whichever host or role wrote it.
resource "aws_s3_bucket_ownership_controls" "this" {
  bucket = aws_s3_bucket.this.id

  rule {
    object_ownership = "BucketOwnerEnforced"
  }
}

resource "aws_s3_bucket_server_side_encryption_configuration" "this" {
  bucket = aws_s3_bucket.this.id

  rule {
    apply_server_side_encryption_by_default {
      sse_algorithm     = var.kms_key_arn == null ? "AES256" : "aws:kms"
      kms_master_key_id = var.kms_key_arn
    }
    # Bucket keys cut KMS requests (and their cost and throttling) by orders of magnitude.
    bucket_key_enabled = var.kms_key_arn != null
    # Customer-provided keys are refused: the store never uses them, and an object written with one
    # would be unreadable to every other host.
    blocked_encryption_types = ["SSE-C"]
  }
}

# Optional server access logs, to an existing bucket of the operator's choosing.
resource "aws_s3_bucket_logging" "this" {
  count  = var.access_log_bucket == null ? 0 : 1
  bucket = aws_s3_bucket.this.id

  target_bucket = var.access_log_bucket
  target_prefix = coalesce(var.access_log_prefix, "${aws_s3_bucket.this.id}/")
}

# Removing this resource (versioning_enabled = false after true) suspends versioning; S3 cannot turn it off.
resource "aws_s3_bucket_versioning" "this" {
  count  = var.versioning_enabled ? 1 : 0
  bucket = aws_s3_bucket.this.id

  versioning_configuration {
    status = "Enabled"
  }
}

# Lifecycle rules only ever clean up after ingests. Nothing here may match blobs/ or index/: whether a
# blob is live is decided by its index record, which tags and object age do not track.
resource "aws_s3_bucket_lifecycle_configuration" "this" {
  bucket = aws_s3_bucket.this.id

  # Aborting never removes a completed object; it frees the parts of an upload a crashed host left
  # behind, including an interrupted multipart copy of a large blob into its digest key and a put
  # of a file sent straight to its digest key that was interrupted or lost the race to another
  # host's completion (the store never aborts those once their key holds a blob).
  rule {
    id     = "abort-incomplete-multipart-uploads"
    status = "Enabled"

    filter {
      prefix = var.prefix
    }

    abort_incomplete_multipart_upload {
      days_after_initiation = var.abort_incomplete_multipart_days
    }
  }

  # An ingest record or partial that nobody wrote to for this long belongs to an abandoned ingest.
  rule {
    id     = "expire-abandoned-ingests"
    status = "Enabled"

    filter {
      prefix = local.ingest_prefix
    }

    expiration {
      days = var.ingest_expiration_days
    }

    noncurrent_version_expiration {
      noncurrent_days = 1
    }
  }

  # With versioning, only noncurrent versions expire under the whole prefix: a deleted blob or an
  # overwritten index record, never a current object (whose fate the index record alone decides).
  # A delete marker with no version left behind it goes too.
  dynamic "rule" {
    for_each = var.versioning_enabled ? [var.noncurrent_version_expiration_days] : []
    content {
      id     = "expire-noncurrent-versions"
      status = "Enabled"

      filter {
        prefix = var.prefix
      }

      noncurrent_version_expiration {
        noncurrent_days = rule.value
      }

      expiration {
        expired_object_delete_marker = true
      }
    }
  }

  lifecycle {
    precondition {
      condition     = var.ingest_expiration_days >= var.abort_incomplete_multipart_days
      error_message = "The ingest_expiration_days must not be shorter than abort_incomplete_multipart_days: an ingest record must outlive its multipart upload."
    }
  }

  depends_on = [aws_s3_bucket_versioning.this]
}

data "aws_iam_policy_document" "bucket" {
  statement {
    sid       = "DenyInsecureTransport"
    effect    = "Deny"
    actions   = ["s3:*"]
    resources = [aws_s3_bucket.this.arn, "${aws_s3_bucket.this.arn}/*"]

    principals {
      type        = "*"
      identifiers = ["*"]
    }

    condition {
      test     = "Bool"
      variable = "aws:SecureTransport"
      values   = ["false"]
    }
  }
}

resource "aws_s3_bucket_policy" "this" {
  bucket = aws_s3_bucket.this.id
  policy = data.aws_iam_policy_document.bucket.json

  # S3 rejects concurrent configuration changes of one bucket; the public access block goes first.
  depends_on = [aws_s3_bucket_public_access_block.this]
}
