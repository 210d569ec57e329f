using BenchmarkDotNet.Running;
using Outpost.Benchmarks.Audit;
using Outpost.Benchmarks.Inference;
using Outpost.Benchmarks.Load;
using Outpost.Benchmarks.Sandbox;
using Outpost.Benchmarks.Tasks;

// "load ...", "audit ..." and "tasks ..." drive a running cluster, "sandbox ..." times the task sandbox's start; anything else goes to BenchmarkDotNet (e.g. --filter '*Onnx*' --job short).
return args switch
{
    ["load", .. var rest] => await LoadDriver.RunAsync(rest),
    ["audit", .. var rest] => await AuditDriver.RunAsync(rest),
    ["tasks", .. var rest] => await TaskLatencyDriver.RunAsync(rest),
    ["sandbox", .. var rest] => await SandboxStartDriver.RunAsync(rest),
    _ => RunBenchmarks(args),
};

static int RunBenchmarks(string[] args)
{
    var summaries = BenchmarkSwitcher.FromAssembly(typeof(OnnxEmbeddingBenchmarks).Assembly).Run(args);
    return summaries.Any(s => s.HasCriticalValidationErrors || s.Reports.Any(r => !r.Success)) ? 1 : 0;
}
