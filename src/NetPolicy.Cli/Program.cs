namespace NetPolicy.Cli;

/// <summary>The process entry point of the <c>netpol</c> tool.</summary>
internal static class Program
{
    private static int Main(string[] args) => NetpolCommand.Run(args, Console.Out, Console.Error, Console.In);
}
