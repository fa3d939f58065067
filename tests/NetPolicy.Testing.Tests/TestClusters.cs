namespace NetPolicy.Testing.Tests;

/// <summary>The clusters the tests share: loaded once, as the library recommends.</summary>
internal static class TestClusters
{
    public static readonly string PaymentsPath = Path.Combine(AppContext.BaseDirectory, "TestData", "payments", "cluster.yaml");

    private static readonly Lazy<PolicyTestCluster> s_payments = new(() => PolicyTestCluster.Load(PaymentsPath));

    /// <summary>Gets samples/payments/cluster.yaml.</summary>
    public static PolicyTestCluster Payments => s_payments.Value;

    /// <summary>Workloads instead of pods, without status (addresses come from the pool), a named port and a policy
    /// that allows only the api's http port from the web Deployment.</summary>
    public const string WorkloadsYaml = """
        apiVersion: v1
        kind: Namespace
        metadata:
          name: shop
        ---
        apiVersion: apps/v1
        kind: Deployment
        metadata:
          name: web
          namespace: shop
        spec:
          template:
            metadata:
              labels:
                app: web
            spec:
              containers:
              - name: web
                image: nginx
        ---
        apiVersion: apps/v1
        kind: StatefulSet
        metadata:
          name: api
          namespace: shop
        spec:
          template:
            metadata:
              labels:
                app: api
            spec:
              containers:
              - name: api
                image: api
                ports:
                - name: http
                  containerPort: 9000
        ---
        apiVersion: v1
        kind: Pod
        metadata:
          name: batch
          namespace: shop
          labels:
            app: batch
        spec:
          containers:
          - name: batch
            image: batch
        ---
        apiVersion: networking.k8s.io/v1
        kind: NetworkPolicy
        metadata:
          name: api-from-web
          namespace: shop
        spec:
          podSelector:
            matchLabels:
              app: api
          ingress:
          - from:
            - podSelector:
                matchLabels:
                  app: web
            ports:
            - port: http
        """;
}
