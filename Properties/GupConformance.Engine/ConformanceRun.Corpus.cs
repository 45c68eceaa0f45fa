namespace GupConformance.Engine;

/// <summary>The regression corpus side of a run: replay the stored traces first, write every new counterexample.</summary>
public static partial class ConformanceRun
{
    private sealed partial class Session
    {
        private int _corpusReplayed;

        /// <summary>
        /// Replays every corpus trace of this profile whose commands the model accepts under this implementation's
        /// facets, before any generation. A failing trace is captured as a counterexample at once (it is already
        /// minimal) and its failure kind counts as captured, so generation does not shrink it again.
        /// </summary>
        private void ReplayCorpus()
        {
            if (_options.CorpusDirectory is not { } dir)
            {
                return;
            }

            var load = RegressionCorpus.Load(dir);
            foreach (var (file, error) in load.Errors)
            {
                // A damaged file in the corpus is the user's to remove; it says nothing about the implementation.
                _warnings.Add($"corpus trace {file} was skipped: {error}; remove it with: rm {RegressionCorpus.Quote(file)}");
            }

            foreach (var entry in load.Traces)
            {
                if (!string.Equals(entry.Trace.Profile, _profile.Id, StringComparison.Ordinal)
                    || Shrinker.Validate(_profile, _facets, entry.Trace.Commands) is not null)
                {
                    continue;
                }

                _corpusReplayed++;
                var cmds = entry.Trace.Commands.ToArray();
                var (r, signature) = ExecuteAndTally(cmds);

                if (signature.Count == 0)
                {
                    continue;
                }

                foreach (var key in signature.Where(k => k.Contains(':', StringComparison.Ordinal) || k is "timeout" or "invalid"))
                {
                    Bump(_problemCounts, key);
                }

                if (_counterexamples.Count >= _options.MaxCounterexamples || signature.IsSubsetOf(_captured))
                {
                    continue;
                }

                BeginRound();
                _target = signature.Except(_captured, StringComparer.Ordinal).ToHashSet(StringComparer.Ordinal);
                _originalLength = cmds.Length;
                Capture(cmds);
                _counterexamples[^1] = _counterexamples[^1] with { FromTrace = entry.Path, SequenceSeed = entry.Trace.SequenceSeedValue };
            }

            BeginRound();
        }

        /// <summary>Writes every counterexample found by generation to the corpus, and remembers where.</summary>
        private void WriteTraces()
        {
            if (_options.CorpusDirectory is not { } dir)
            {
                return;
            }

            for (var i = 0; i < _counterexamples.Count; i++)
            {
                var c = _counterexamples[i];
                if (c.FromTrace is not null)
                {
                    continue;
                }

                var trace = TraceFile.From(c, _manifest, _options);
                _counterexamples[i] = c with { TracePath = RegressionCorpus.Write(dir, trace) };
            }
        }
    }
}
