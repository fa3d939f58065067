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
