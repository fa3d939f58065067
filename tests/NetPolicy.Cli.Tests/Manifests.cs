namespace NetPolicy.Cli.Tests;

/// <summary>Small fixture manifests.</summary>
internal static class Manifests
{
    /// <summary>A policy whose ipBlock CIDR (line 11) is invalid.</summary>
    public const string InvalidCidr = """
        apiVersion: networking.k8s.io/v1
        kind: NetworkPolicy
        metadata:
          name: bad-cidr
          namespace: shop
        spec:
          podSelector: {}
          ingress:
          - from:
            - ipBlock:
                cidr: 10.0.0.0/33
        ---
        apiVersion: v1
        kind: Pod
        metadata:
          name: web
          namespace: shop
          labels:
            app: web
        status:
          podIPs:
          - ip: 198.18.1.20
        """;

    /// <summary>Three pods on two nodes (spec.nodeName) and a policy isolating two of them: db (node-a, ingress from web)
    /// and web (node-b, egress to db).</summary>
    public const string PodsOnTwoNodes = """
        apiVersion: v1
        kind: Pod
        metadata: {name: db, namespace: shop, labels: {app: db}}
        spec: {nodeName: node-a, containers: [{name: c}]}
        status: {podIP: 198.18.0.1}
        ---
        apiVersion: v1
        kind: Pod
        metadata: {name: cache, namespace: shop, labels: {app: cache}}
        spec: {nodeName: node-a, containers: [{name: c}]}
        status: {podIP: 198.18.0.2}
        ---
        apiVersion: v1
        kind: Pod
        metadata: {name: web, namespace: shop, labels: {app: web}}
        spec: {nodeName: node-b, containers: [{name: c}]}
        status: {podIP: 198.18.0.3}
        ---
        apiVersion: networking.k8s.io/v1
        kind: NetworkPolicy
        metadata: {name: db, namespace: shop}
        spec:
          podSelector: {matchLabels: {app: db}}
          ingress:
          - from: [{podSelector: {matchLabels: {app: web}}}]
            ports: [{port: 5432}]
        ---
        apiVersion: networking.k8s.io/v1
        kind: NetworkPolicy
        metadata: {name: web, namespace: shop}
        spec:
          podSelector: {matchLabels: {app: web}}
          policyTypes: [Egress]
          egress:
          - to: [{podSelector: {matchLabels: {app: db}}}]
            ports: [{port: 5432}, {port: 53, protocol: UDP}]
        """;

    /// <summary>The line of the invalid CIDR in <see cref="InvalidCidr"/>.</summary>
    public const int InvalidCidrLine = 11;

    /// <summary>Two pods without addresses and a policy, for pool tests.</summary>
    public const string PodsWithoutAddresses = """
        apiVersion: v1
        kind: Pod
        metadata:
          name: a
          namespace: shop
          labels:
            app: a
        ---
        apiVersion: v1
        kind: Pod
        metadata:
          name: b
          namespace: shop
          labels:
            app: b
        ---
        apiVersion: networking.k8s.io/v1
        kind: NetworkPolicy
        metadata:
          name: only-a
          namespace: shop
        spec:
          podSelector:
            matchLabels:
              app: b
          ingress:
          - from:
            - podSelector:
                matchLabels:
                  app: a
        """;
}
