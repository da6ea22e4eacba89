#!/usr/bin/env bash
# CloudShop's stage, deployed the way seed 002's team scripts it: one `aws` CLI call after the
# other, each id captured for the next. The baseline plumb is compared with (bench/compare.sh);
# it makes the same 19 resources as examples/cloudshop (names prefixed with $1, default cli).
#   bench/baselines/cloudshop.sh [PREFIX]      (AWS_ENDPOINT_URL, credentials, region from env)
set -euo pipefail
p=${1:-cli}
aws_() { aws --endpoint-url "${AWS_ENDPOINT_URL:?}" --output text "$@"; }

vpc=$(aws_ ec2 create-vpc --cidr-block 10.20.0.0/16 --query Vpc.VpcId)
aws_ ec2 modify-vpc-attribute --vpc-id "$vpc" --enable-dns-hostnames '{"Value": true}'
aws_ ec2 create-tags --resources "$vpc" --tags "Key=Name,Value=$p-cloudshop"
sub_a=$(aws_ ec2 create-subnet --vpc-id "$vpc" --cidr-block 10.20.1.0/24 --availability-zone us-east-1a --query Subnet.SubnetId)
sub_b=$(aws_ ec2 create-subnet --vpc-id "$vpc" --cidr-block 10.20.2.0/24 --availability-zone us-east-1b --query Subnet.SubnetId)
aws_ ec2 modify-subnet-attribute --subnet-id "$sub_a" --map-public-ip-on-launch
aws_ ec2 modify-subnet-attribute --subnet-id "$sub_b" --map-public-ip-on-launch
alb_sg=$(aws_ ec2 create-security-group --group-name "$p-alb" --description "public HTTP to the load balancer" --vpc-id "$vpc" --query GroupId)
aws_ ec2 authorize-security-group-ingress --group-id "$alb_sg" --protocol tcp --port 80 --cidr 0.0.0.0/0 >/dev/null
backend_sg=$(aws_ ec2 create-security-group --group-name "$p-backend" --description "the load balancer to the backend tasks" --vpc-id "$vpc" --query GroupId)
aws_ ec2 authorize-security-group-ingress --group-id "$backend_sg" --protocol tcp --port 8000 --source-group "$alb_sg" >/dev/null
db_sg=$(aws_ ec2 create-security-group --group-name "$p-db" --description "the backend tasks to PostgreSQL" --vpc-id "$vpc" --query GroupId)
aws_ ec2 authorize-security-group-ingress --group-id "$db_sg" --protocol tcp --port 5432 --source-group "$backend_sg" >/dev/null

repo_uri=$(aws_ ecr create-repository --repository-name "$p-cloudshop-backend" --image-scanning-configuration scanOnPush=true --image-tag-mutability MUTABLE --query repository.repositoryUri)
aws_ logs create-log-group --log-group-name "/ecs/$p/backend-blue"
aws_ logs put-retention-policy --log-group-name "/ecs/$p/backend-blue" --retention-in-days 14

alb=$(aws_ elbv2 create-load-balancer --name "$p-alb" --scheme internet-facing --type application --subnets "$sub_a" "$sub_b" --security-groups "$alb_sg" --query 'LoadBalancers[0].LoadBalancerArn')
tg=$(aws_ elbv2 create-target-group --name "$p-backend-blue" --port 8000 --protocol HTTP --target-type ip --vpc-id "$vpc" --health-check-path /health --health-check-interval-seconds 30 --query 'TargetGroups[0].TargetGroupArn')
aws_ elbv2 create-listener --load-balancer-arn "$alb" --port 80 --protocol HTTP --default-actions "Type=forward,TargetGroupArn=$tg" >/dev/null

# tagged: moto 5.2.1's tagging API fails on an ECS cluster or service without tags
cluster=$(aws_ ecs create-cluster --cluster-name "$p-cluster" --tags key=project,value=cloudshop --query cluster.clusterArn)
role=$(aws_ iam create-role --role-name "$p-cloudshop-task-execution" --assume-role-policy-document '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"ecs-tasks.amazonaws.com"},"Action":"sts:AssumeRole"}]}' --query Role.Arn)
aws_ iam attach-role-policy --role-name "$p-cloudshop-task-execution" --policy-arn arn:aws:iam::aws:policy/service-role/AmazonECSTaskExecutionRolePolicy

aws_ rds create-db-subnet-group --db-subnet-group-name "$p-cloudshop-db" --db-subnet-group-description "CloudShop database subnets" --subnet-ids "$sub_a" "$sub_b" >/dev/null
aws_ rds create-db-instance --db-instance-identifier "$p-cloudshop-db" --engine postgres --engine-version 15 \
  --db-instance-class db.t3.micro --allocated-storage 20 --db-name cloudshop --master-username cloudshop \
  --master-user-password "${CLOUDSHOP_DB_PASSWORD:-baseline-password-1}" --db-subnet-group-name "$p-cloudshop-db" \
  --vpc-security-group-ids "$db_sg" --no-publicly-accessible --storage-encrypted --backup-retention-period 7 \
  --no-deletion-protection >/dev/null
aws_ rds wait db-instance-available --db-instance-identifier "$p-cloudshop-db"
db_host=$(aws_ rds describe-db-instances --db-instance-identifier "$p-cloudshop-db" --query 'DBInstances[0].Endpoint.Address')

task=$(aws_ ecs register-task-definition --family "$p-backend-blue" --cpu 256 --memory 512 --network-mode awsvpc \
  --requires-compatibilities FARGATE --execution-role-arn "$role" --query taskDefinition.taskDefinitionArn \
  --container-definitions "[{\"name\":\"backend\",\"image\":\"$repo_uri:latest\",\"essential\":true,\"portMappings\":[{\"containerPort\":8000,\"protocol\":\"tcp\"}],\"environment\":[{\"name\":\"DB_HOST\",\"value\":\"$db_host\"},{\"name\":\"DB_NAME\",\"value\":\"cloudshop\"}],\"logConfiguration\":{\"logDriver\":\"awslogs\",\"options\":{\"awslogs-group\":\"/ecs/$p/backend-blue\",\"awslogs-region\":\"us-east-1\",\"awslogs-stream-prefix\":\"backend\"}}}]")
aws_ ecs create-service --cluster "$cluster" --service-name "$p-backend-blue" --task-definition "$task" \
  --desired-count 1 --launch-type FARGATE --health-check-grace-period-seconds 60 \
  --deployment-configuration 'maximumPercent=200,minimumHealthyPercent=100,deploymentCircuitBreaker={enable=true,rollback=true}' \
  --network-configuration "awsvpcConfiguration={subnets=[$sub_a,$sub_b],securityGroups=[$backend_sg],assignPublicIp=ENABLED}" \
  --load-balancers "targetGroupArn=$tg,containerName=backend,containerPort=8000" \
  --tags key=project,value=cloudshop >/dev/null

account=$(aws_ sts get-caller-identity --query Account)
bucket="$p-cloudshop-frontend-$account"
aws_ s3api create-bucket --bucket "$bucket" >/dev/null
aws_ s3api put-public-access-block --bucket "$bucket" --public-access-block-configuration BlockPublicAcls=true,IgnorePublicAcls=true,BlockPublicPolicy=false,RestrictPublicBuckets=false
aws_ s3api put-bucket-website --bucket "$bucket" --website-configuration '{"IndexDocument":{"Suffix":"index.html"},"ErrorDocument":{"Key":"index.html"}}'
aws_ s3api put-bucket-policy --bucket "$bucket" --policy "{\"Version\":\"2012-10-17\",\"Statement\":[{\"Effect\":\"Allow\",\"Principal\":\"*\",\"Action\":\"s3:GetObject\",\"Resource\":\"arn:aws:s3:::$bucket/*\"}]}"
