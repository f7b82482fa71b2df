# The S3 actions each role needs, by the part of the store they apply to:
#   list   - on the bucket, unconditioned: S3 answers 404 for a missing key only to a caller that may list
#            the bucket, and a GetObject or HeadObject carries no s3:prefix for a condition to match, so
#            a prefix-conditioned ListBucket would turn every "no such record" into 403 Access Denied
#            (the store would then fail first commits with PermissionDenied). Listing reveals key
#            names only, never content.
#   bucket - on the bucket, unconditioned (S3 offers no prefix condition for them)
#   blobs  - on <prefix>blobs/*  (committed content, immutable; tags mirror refs and state)
#   index  - on <prefix>index/*  (index records, compare-and-swap with If-Match)
#   ingest - on <prefix>ingest/* (ingest records and the multipart upload of each ref)
# These lists are exactly the IAM actions of the S3 operations the store is recorded performing in each
# role (integration-tests S3OperationsByRoleIT, compared by the build); keep them literal.
locals {
  # info, readerAt and walk.
  reader_actions = {
    list   = ["s3:ListBucket"]
    bucket = []
    blobs  = ["s3:GetObject"]
    index  = ["s3:GetObject"]
    ingest = []
  }

  # Build hosts: ingest, resume, commit, abort, label, count references, link, and read. A blob is only
  # ever marked deleting by a writer (a compare-and-swap of its index record); removing objects is left
  # to the admin role. AbortMultipartUpload on blobs ends a failed multipart copy of a large blob;
  # GetObjectTagging asks whether the server has tagging when a tagged write is cut without an answer.
  writer_actions = {
    list   = ["s3:ListBucket"]
    bucket = []
    blobs  = ["s3:GetObject", "s3:PutObject", "s3:GetObjectTagging", "s3:PutObjectTagging", "s3:AbortMultipartUpload"]
    index  = ["s3:GetObject", "s3:PutObject"]
    ingest = ["s3:GetObject", "s3:PutObject", "s3:DeleteObject", "s3:AbortMultipartUpload", "s3:ListMultipartUploadParts"]
  }

  # A writer that also runs gc and fsck: purge blobs and their index records, remove abandoned ingests
  # and abort the uploads no ingest names, compare blob tags with records, repair links, tags and
  # blobs stored without a record.
  admin_actions = {
    list   = ["s3:ListBucket"]
    bucket = ["s3:ListBucketMultipartUploads"]
    blobs  = ["s3:GetObject", "s3:PutObject", "s3:GetObjectTagging", "s3:PutObjectTagging", "s3:AbortMultipartUpload", "s3:DeleteObject"]
    index  = ["s3:GetObject", "s3:PutObject", "s3:DeleteObject"]
    ingest = ["s3:GetObject", "s3:PutObject", "s3:DeleteObject", "s3:AbortMultipartUpload", "s3:ListMultipartUploadParts"]
  }

  # SSE-KMS: reading needs Decrypt; writing (and completing multipart uploads) also needs GenerateDataKey.
  reader_kms_actions = ["kms:Decrypt"]
  writer_kms_actions = ["kms:Decrypt", "kms:GenerateDataKey"]
  admin_kms_actions  = ["kms:Decrypt", "kms:GenerateDataKey"]

  roles = {
    reader = { s3 = local.reader_actions, kms = local.reader_kms_actions }
    writer = { s3 = local.writer_actions, kms = local.writer_kms_actions }
    admin  = { s3 = local.admin_actions, kms = local.admin_kms_actions }
  }

  policy_name_prefix = coalesce(var.iam_policy_name_prefix, "coffer-${aws_s3_bucket.this.id}-")
}

data "aws_iam_policy_document" "role" {
  for_each = local.roles

  statement {
    sid       = "List"
    actions   = each.value.s3.list
    resources = [aws_s3_bucket.this.arn]
  }

  dynamic "statement" {
    for_each = length(each.value.s3.bucket) > 0 ? [each.value.s3.bucket] : []
    content {
      sid       = "Bucket"
      actions   = statement.value
      resources = [aws_s3_bucket.this.arn]
    }
  }

  statement {
    sid       = "Blobs"
    actions   = each.value.s3.blobs
    resources = ["${aws_s3_bucket.this.arn}/${local.blobs_prefix}*"]
  }

  statement {
    sid       = "Index"
    actions   = each.value.s3.index
    resources = ["${aws_s3_bucket.this.arn}/${local.index_prefix}*"]
  }

  dynamic "statement" {
    for_each = length(each.value.s3.ingest) > 0 ? [each.value.s3.ingest] : []
    content {
      sid       = "Ingest"
      actions   = statement.value
      resources = ["${aws_s3_bucket.this.arn}/${local.ingest_prefix}*"]
    }
  }

  dynamic "statement" {
    for_each = var.kms_key_arn == null ? [] : [var.kms_key_arn]
    content {
      sid       = "StoreKey"
      actions   = each.value.kms
      resources = [statement.value]

      # The key may serve other buckets too: allow its use only through S3, and only for this
      # bucket (S3 passes the bucket's ARN as encryption context with bucket keys, an object's ARN
      # without).
      condition {
        test     = "StringEquals"
        variable = "kms:ViaService"
        values   = ["s3.${aws_s3_bucket.this.region}.amazonaws.com"]
      }

      condition {
        test     = "StringLike"
        variable = "kms:EncryptionContext:aws:s3:arn"
        values   = [aws_s3_bucket.this.arn, "${aws_s3_bucket.this.arn}/*"]
      }
    }
  }
}

resource "aws_iam_policy" "role" {
  for_each = var.create_iam_policies ? local.roles : {}

  name        = "${local.policy_name_prefix}${each.key}"
  path        = var.iam_policy_path
  description = "Coffer ${each.key} access to s3://${aws_s3_bucket.this.id}/${var.prefix}"
  policy      = data.aws_iam_policy_document.role[each.key].json
  tags        = var.tags
}
