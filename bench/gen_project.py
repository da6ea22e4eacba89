#!/usr/bin/env python3
"""Writes a generated plumb project of N resources into DIR, for benchmarks:

    bench/gen_project.py N DIR [--appliable]

With --appliable, groups are of the four types moto creates without a task definition (log
group, repository, role, cluster): a project `plumb apply` can make on moto (bench/refresh.sh).

The resources are groups of a realistic shape — a log group, an ECR repository, an IAM role,
an ECS cluster, and a service referring to the cluster, role and log group — so that the
expressions and the dependency graph grow with N as they would in a large real project.
"""
import os
import sys


def main():
    n = int(sys.argv[1])
    out = sys.argv[2]
    appliable = "--appliable" in sys.argv[3:]
    size = 4 if appliable else 5
    os.makedirs(out, exist_ok=True)
    lines = [
        "project: bench",
        "region: us-east-1",
        "vars: { retention: 14, count: 1 }",
        "environments:",
        "  stage: {}",
        "  prod: { vars: { count: 2 } }",
        "resources:",
    ]
    i = 0
    g = 0
    while i < n:
        k = f"g{g:06d}"
        group = [
            f"  {k}_logs:",
            "    type: AWS::Logs::LogGroup",
            f"    properties: {{ LogGroupName: '/bench/${{env}}/{k}', RetentionInDays: '${{var.retention}}' }}",
            f"  {k}_repo:",
            "    type: AWS::ECR::Repository",
            f"    properties: {{ RepositoryName: '${{env}}-{k}', ImageScanningConfiguration: {{ ScanOnPush: true }} }}",
            f"  {k}_role:",
            "    type: AWS::IAM::Role",
            "    properties:",
            f"      RoleName: ${{env}}-{k}",
            "      AssumeRolePolicyDocument:",
            "        Version: '2012-10-17'",
            "        Statement: [{ Effect: Allow, Principal: { Service: ecs-tasks.amazonaws.com }, Action: sts:AssumeRole }]",
            f"  {k}_cluster:",
            "    type: AWS::ECS::Cluster",
            f"    properties: {{ ClusterName: '${{env}}-{k}' }}",
            f"  {k}_svc:",
            "    type: AWS::ECS::Service",
            f"    depends_on: [{k}_logs]",
            "    properties:",
            f"      ServiceName: ${{env}}-{k}",
            f"      Cluster: ${{{k}_cluster.Arn}}",
            f"      TaskDefinition: ${{{k}_repo.RepositoryUri}}",
            "      DesiredCount: ${var.count}",
            "      LaunchType: FARGATE",
        ]
        if appliable:
            group = group[:group.index(f"  {k}_svc:")]
        take = min(size, n - i)
        # each resource is 3 lines at least; cut the group at resource boundaries
        starts = [j for j, l in enumerate(group) if l.startswith("  ") and not l.startswith("   ")]
        end = starts[take] if take < size else len(group)
        body = group[:end]
        if take < size:
            # a cut group must not refer to resources it left out
            body = [l for l in body if "_cluster.Arn" not in l and "_repo.Repository" not in l
                    and "depends_on" not in l]
        lines += body
        i += take
        g += 1
    with open(os.path.join(out, "plumb.yaml"), "w") as f:
        f.write("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
