#!/usr/bin/env python3
"""CloudShop's stage with boto3 in one process: the calls of bench/baselines/cloudshop.sh, one
after the other, without the aws CLI's start-up per call. The second baseline plumb is
compared with (bench/compare.sh).

    bench/baselines/cloudshop_boto3.py [PREFIX]     (AWS_ENDPOINT_URL, credentials from env)
"""
import json
import os
import sys

import boto3


def main():
    p = sys.argv[1] if len(sys.argv) > 1 else "py"
    kw = {"endpoint_url": os.environ["AWS_ENDPOINT_URL"], "region_name": "us-east-1"}
    ec2, ecr, logs, elbv2, ecs, iam, rds, s3, sts = (
        boto3.client(s, **kw)
        for s in ("ec2", "ecr", "logs", "elbv2", "ecs", "iam", "rds", "s3", "sts"))

    vpc = ec2.create_vpc(CidrBlock="10.20.0.0/16")["Vpc"]["VpcId"]
    ec2.modify_vpc_attribute(VpcId=vpc, EnableDnsHostnames={"Value": True})
    ec2.create_tags(Resources=[vpc], Tags=[{"Key": "Name", "Value": f"{p}-cloudshop"}])
    subnets = [ec2.create_subnet(VpcId=vpc, CidrBlock=f"10.20.{i}.0/24",
                                 AvailabilityZone=f"us-east-1{z}")["Subnet"]["SubnetId"]
               for i, z in ((1, "a"), (2, "b"))]
    for s in subnets:
        ec2.modify_subnet_attribute(SubnetId=s, MapPublicIpOnLaunch={"Value": True})
    alb_sg = ec2.create_security_group(GroupName=f"{p}-alb", VpcId=vpc,
                                       Description="public HTTP to the load balancer")["GroupId"]
    ec2.authorize_security_group_ingress(GroupId=alb_sg, IpPermissions=[
        {"IpProtocol": "tcp", "FromPort": 80, "ToPort": 80, "IpRanges": [{"CidrIp": "0.0.0.0/0"}]}])
    backend_sg = ec2.create_security_group(
        GroupName=f"{p}-backend", VpcId=vpc, Description="the load balancer to the backend tasks")["GroupId"]
    ec2.authorize_security_group_ingress(GroupId=backend_sg, IpPermissions=[
        {"IpProtocol": "tcp", "FromPort": 8000, "ToPort": 8000, "UserIdGroupPairs": [{"GroupId": alb_sg}]}])
    db_sg = ec2.create_security_group(GroupName=f"{p}-db", VpcId=vpc,
                                      Description="the backend tasks to PostgreSQL")["GroupId"]
    ec2.authorize_security_group_ingress(GroupId=db_sg, IpPermissions=[
        {"IpProtocol": "tcp", "FromPort": 5432, "ToPort": 5432, "UserIdGroupPairs": [{"GroupId": backend_sg}]}])

    repo_uri = ecr.create_repository(repositoryName=f"{p}-cloudshop-backend",
                                     imageScanningConfiguration={"scanOnPush": True},
                                     imageTagMutability="MUTABLE")["repository"]["repositoryUri"]
    logs.create_log_group(logGroupName=f"/ecs/{p}/backend-blue")
    logs.put_retention_policy(logGroupName=f"/ecs/{p}/backend-blue", retentionInDays=14)

    alb = elbv2.create_load_balancer(Name=f"{p}-alb", Scheme="internet-facing", Type="application",
                                     Subnets=subnets, SecurityGroups=[alb_sg])["LoadBalancers"][0]["LoadBalancerArn"]
    tg = elbv2.create_target_group(Name=f"{p}-backend-blue", Port=8000, Protocol="HTTP", TargetType="ip",
                                   VpcId=vpc, HealthCheckPath="/health",
                                   HealthCheckIntervalSeconds=30)["TargetGroups"][0]["TargetGroupArn"]
    elbv2.create_listener(LoadBalancerArn=alb, Port=80, Protocol="HTTP",
                          DefaultActions=[{"Type": "forward", "TargetGroupArn": tg}])

    # tagged: moto 5.2.1's tagging API fails on an ECS cluster or service without tags
    cluster = ecs.create_cluster(clusterName=f"{p}-cluster",
                                 tags=[{"key": "project", "value": "cloudshop"}])["cluster"]["clusterArn"]
    role = iam.create_role(RoleName=f"{p}-cloudshop-task-execution", AssumeRolePolicyDocument=json.dumps({
        "Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"Service": "ecs-tasks.amazonaws.com"},
                                                "Action": "sts:AssumeRole"}]}))["Role"]["Arn"]
    iam.attach_role_policy(RoleName=f"{p}-cloudshop-task-execution",
                           PolicyArn="arn:aws:iam::aws:policy/service-role/AmazonECSTaskExecutionRolePolicy")

    rds.create_db_subnet_group(DBSubnetGroupName=f"{p}-cloudshop-db", SubnetIds=subnets,
                               DBSubnetGroupDescription="CloudShop database subnets")
    rds.create_db_instance(DBInstanceIdentifier=f"{p}-cloudshop-db", Engine="postgres", EngineVersion="15",
                           DBInstanceClass="db.t3.micro", AllocatedStorage=20, DBName="cloudshop",
                           MasterUsername="cloudshop",
                           MasterUserPassword=os.environ.get("CLOUDSHOP_DB_PASSWORD", "baseline-password-1"),
                           DBSubnetGroupName=f"{p}-cloudshop-db", VpcSecurityGroupIds=[db_sg],
                           PubliclyAccessible=False, StorageEncrypted=True, BackupRetentionPeriod=7,
                           DeletionProtection=False)
    rds.get_waiter("db_instance_available").wait(DBInstanceIdentifier=f"{p}-cloudshop-db",
                                                 WaiterConfig={"Delay": 1})
    db_host = rds.describe_db_instances(DBInstanceIdentifier=f"{p}-cloudshop-db")["DBInstances"][0]["Endpoint"]["Address"]

    task = ecs.register_task_definition(
        family=f"{p}-backend-blue", cpu="256", memory="512", networkMode="awsvpc",
        requiresCompatibilities=["FARGATE"], executionRoleArn=role,
        containerDefinitions=[{
            "name": "backend", "image": f"{repo_uri}:latest", "essential": True,
            "portMappings": [{"containerPort": 8000, "protocol": "tcp"}],
            "environment": [{"name": "DB_HOST", "value": db_host}, {"name": "DB_NAME", "value": "cloudshop"}],
            "logConfiguration": {"logDriver": "awslogs", "options": {
                "awslogs-group": f"/ecs/{p}/backend-blue", "awslogs-region": "us-east-1",
                "awslogs-stream-prefix": "backend"}}}])["taskDefinition"]["taskDefinitionArn"]
    ecs.create_service(cluster=cluster, serviceName=f"{p}-backend-blue", taskDefinition=task, desiredCount=1,
                       launchType="FARGATE", healthCheckGracePeriodSeconds=60,
                       deploymentConfiguration={"maximumPercent": 200, "minimumHealthyPercent": 100,
                                                "deploymentCircuitBreaker": {"enable": True, "rollback": True}},
                       networkConfiguration={"awsvpcConfiguration": {
                           "subnets": subnets, "securityGroups": [backend_sg], "assignPublicIp": "ENABLED"}},
                       loadBalancers=[{"targetGroupArn": tg, "containerName": "backend", "containerPort": 8000}],
                       tags=[{"key": "project", "value": "cloudshop"}])

    bucket = f"{p}-cloudshop-frontend-{sts.get_caller_identity()['Account']}"
    s3.create_bucket(Bucket=bucket)
    s3.put_public_access_block(Bucket=bucket, PublicAccessBlockConfiguration={
        "BlockPublicAcls": True, "IgnorePublicAcls": True, "BlockPublicPolicy": False,
        "RestrictPublicBuckets": False})
    s3.put_bucket_website(Bucket=bucket, WebsiteConfiguration={
        "IndexDocument": {"Suffix": "index.html"}, "ErrorDocument": {"Key": "index.html"}})
    s3.put_bucket_policy(Bucket=bucket, Policy=json.dumps({"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow", "Principal": "*", "Action": "s3:GetObject", "Resource": f"arn:aws:s3:::{bucket}/*"}]}))


if __name__ == "__main__":
    main()
