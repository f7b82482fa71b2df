output "instance_profile_name" {
  description = "Instance profile to launch build hosts with."
  value       = aws_iam_instance_profile.build_host.name
}

output "build_host_role_arn" {
  description = "ARN of the build host role."
  value       = aws_iam_role.build_host.arn
}

output "coffer_config_json" {
  description = "The Coffer client configuration document for the build hosts."
  value       = module.coffer.coffer_config_json
}
