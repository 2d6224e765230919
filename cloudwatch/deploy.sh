#!/bin/sh
# Deploy the CloudWatch dashboard and alarms (chatbot-observability.cfn.json) to real AWS.
# Run by the compose `cloudwatch` profile (service cloudwatch-deploy, aws-cli image), or by hand:
#   AWS_REGION=eu-west-1 SERVICE_NAME=chatbot DEPLOYMENT_ENVIRONMENT=prod sh cloudwatch/deploy.sh
# Needs AWS credentials allowed to run CloudFormation, cloudwatch:PutDashboard and
# cloudwatch:PutMetricAlarm.
set -eu
here=$(cd "$(dirname "$0")" && pwd)

if [ -n "${OTELCOL_CLOUDWATCH_ENDPOINT:-}" ]; then
  echo "cloudwatch-deploy: otelcol-chatbot still sends EMF to ${OTELCOL_CLOUDWATCH_ENDPOINT} (the local emulator)." >&2
  echo "cloudwatch-deploy: for real CloudWatch run: OTELCOL_CLOUDWATCH_ENDPOINT= docker compose --profile cloudwatch up -d" >&2
  exit 1
fi
if [ -z "${AWS_ACCESS_KEY_ID:-}${AWS_PROFILE:-}${AWS_CONTAINER_CREDENTIALS_RELATIVE_URI:-}${AWS_WEB_IDENTITY_TOKEN_FILE:-}" ]; then
  echo "cloudwatch-deploy: no AWS credentials in the environment (AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY[/AWS_SESSION_TOKEN])." >&2
  exit 1
fi

aws cloudformation deploy \
  --region "${AWS_REGION:-us-east-1}" \
  --stack-name "${STACK_NAME:-otel-chatbot-observability}" \
  --template-file "$here/chatbot-observability.cfn.json" \
  --no-fail-on-empty-changeset \
  --parameter-overrides \
    "ServiceName=${SERVICE_NAME:-chatbot}" \
    "Environment=${DEPLOYMENT_ENVIRONMENT:-production}" \
    "Namespace=${OTELCOL_CLOUDWATCH_NAMESPACE:-OtelChatbot}" \
    "AlarmTopicArn=${ALARM_TOPIC_ARN:-}"
aws cloudformation describe-stacks --region "${AWS_REGION:-us-east-1}" \
  --stack-name "${STACK_NAME:-otel-chatbot-observability}" --query 'Stacks[0].Outputs' --output table
