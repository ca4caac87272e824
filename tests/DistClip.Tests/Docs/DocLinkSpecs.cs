// The docs are true to the tree: every relative Markdown link resolves, and every repository path the docs cite exists.
using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;
using Xunit;

namespace DistClip.Tests.Docs;

/// <summary>
/// Reads the repository's Markdown as a renderer sees it — fenced code blocks, inline code and HTML comments are not
/// prose, so a link inside them is no link — and checks what it points at against the working tree. A link is
/// resolved against the folder of the file it is in (against the repository root when it starts with '/'); a fragment
/// (<c>path.md#heading</c>, <c>#heading</c>) must name a heading of that Markdown file, slugged as GitHub slugs it.
/// </summary>
public partial class DocLinkSpecs
{
    /// <summary>The repository's top-level folders: a path in backticks that starts with one of these is a citation.</summary>
    private static readonly string[] TopLevelFolders =
        ["Protocol", "Core", "Exchange", "Hosting", "Models", "Worker", "Coordinator", "Cli", "tests", "deploy", "docs", "scripts"];

    /// <summary>The docs whose paths in backticks are citations of the repository's files.</summary>
    private static readonly string[] CitingDocs = ["docs/DECISIONS.md", "docs/ARCHITECTURE.md", "docs/BENCHMARKS.md"];

    /// <summary>How a cited file's name may end; a citation without an extension may name a folder or a C# file.</summary>
    private static readonly HashSet<string> CitedExtensions = new(StringComparer.Ordinal)
        { ".cs", ".csproj", ".sln", ".props", ".targets", ".sh", ".md", ".yaml", ".yml", ".json", ".txt", ".png", ".svg", ".csv" };

    /// <summary>Folders of build output, tools and runs, not of docs (folders whose name starts with '.' are skipped too).</summary>
    private static readonly HashSet<string> SkippedFolders = new(StringComparer.Ordinal) { "bin", "obj", "TestResults", "artifacts", "node_modules", "runs" };

    /// <summary>Characters of a pattern or a placeholder (<c>tls/node/*</c>, <c>runs/{name}</c>), never of a cited path.</summary>
    private static readonly char[] PatternCharacters = ['*', '?', '<', '>', '{', '$'];

    private static readonly string Root = RepositoryRoot();

    [Fact]
    public void Should_resolve_every_relative_link_in_the_docs()
    {
        var docs = MarkdownFiles().ToList();
        Assert.Contains(Path.Combine(Root, "README.md"), docs);
        Assert.Contains(Path.Combine(Root, "docs", "ARCHITECTURE.md"), docs);

        var broken = new List<string>();
        int relative = 0;
        foreach (var doc in docs)
            foreach (var link in Links(Prose(File.ReadAllText(doc))))
            {
                if (IsExternal(link.Target)) continue;
                relative++;
                if (Unresolved(doc, link.Target) is { } why)
                    broken.Add($"{Relative(doc)}:{link.Line}: [{link.Text}]({link.Target}): {why}");
            }

        Assert.True(relative > 0, $"No relative link found in {docs.Count} Markdown files: the link parser is broken.");
        if (broken.Count > 0)
            Assert.Fail($"{broken.Count} of {relative} relative links in the docs do not resolve:\n  " + string.Join("\n  ", broken));
    }

    [Fact]
    public void Should_cite_only_repository_paths_that_exist()
    {
        var missing = new List<string>();
        int cited = 0;
        foreach (var doc in CitingDocs)
        {
            var path = Path.Combine(Root, doc);
            Assert.True(File.Exists(path), $"{doc} is not in the repository; update {nameof(CitingDocs)}.");
            foreach (var span in CodeSpans(Prose(File.ReadAllText(path))))
                foreach (var token in span.Code.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries))
                {
                    if (!IsRepositoryPath(token)) continue;
                    cited++;
                    if (!CitedPathExists(token)) missing.Add($"{doc}:{span.Line}: `{token}`");
                }
        }

        Assert.True(cited > 0, $"No repository path found in backticks in {string.Join(", ", CitingDocs)}: the citation parser is broken.");
        if (missing.Count > 0)
            Assert.Fail($"{missing.Count} of {cited} cited repository paths do not exist (cite the file's path from the repository root):\n  "
                + string.Join("\n  ", missing));
    }

    private sealed record Block(int FirstLine, string Text);

    private sealed record Link(int Line, string Text, string Target);

    private sealed record CodeSpan(int Line, string Code);

    private static string RepositoryRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "DistClip.sln"))) return dir.FullName;
        throw new InvalidOperationException("DistClip.sln not found above the test binaries.");
    }

    private static string Relative(string path) => Path.GetRelativePath(Root, path);

    /// <summary>Every *.md file of the repository, outside build output and dot-folders (.git, .build, …), in path order.</summary>
    private static IEnumerable<string> MarkdownFiles()
    {
        var found = new List<string>();
        var pending = new Stack<DirectoryInfo>();
        pending.Push(new DirectoryInfo(Root));
        while (pending.Count > 0)
        {
            var dir = pending.Pop();
            found.AddRange(dir.EnumerateFiles("*.md").Select(f => f.FullName));
            foreach (var sub in dir.EnumerateDirectories())
                if (!sub.Name.StartsWith('.') && !SkippedFolders.Contains(sub.Name) && sub.LinkTarget is null) pending.Push(sub);
        }
        return found.Order(StringComparer.Ordinal);
    }

    /// <summary>
    /// The file with its fenced code blocks and HTML comments blanked out; line breaks are kept, so that a line number
    /// in the result is one in the file.
    /// </summary>
    private static string Prose(string markdown)
    {
        var lines = markdown.ReplaceLineEndings("\n").Split('\n');
        string? fence = null;
        for (int i = 0; i < lines.Length; i++)
        {
            var match = FenceLine().Match(lines[i]);
            if (fence is null)
            {
                if (!match.Success) continue;
                fence = match.Groups["fence"].Value;
                lines[i] = "";
            }
            else
            {
                var closing = match.Groups["fence"].Value;
                if (match.Success && closing[0] == fence[0] && closing.Length >= fence.Length && match.Groups["info"].Value.Trim().Length == 0)
                    fence = null;
                lines[i] = "";
            }
        }
        return HtmlComment().Replace(string.Join('\n', lines), c => new string('\n', c.Value.Count(ch => ch == '\n')));
    }

    /// <summary>
    /// The prose in blocks no inline code span can cross: a block ends at a blank line and before a list item, a heading
    /// or a table row, so that one stray backtick cannot pair with one of another paragraph.
    /// </summary>
    private static IEnumerable<Block> Blocks(string prose)
    {
        var lines = prose.Split('\n');
        var current = new StringBuilder();
        int first = 0;
        for (int i = 0; i <= lines.Length; i++)
        {
            bool end = i == lines.Length;
            bool blank = !end && lines[i].Trim().Length == 0;
            if ((end || blank || BlockStart().IsMatch(lines[i])) && current.Length > 0)
            {
                yield return new Block(first, current.ToString());
                current.Clear();
            }
            if (end || blank) continue;
            if (current.Length == 0) first = i + 1;
            else current.Append('\n');
            current.Append(lines[i]);
        }
    }

    private static int LineOf(Block block, int index) => block.FirstLine + block.Text.AsSpan(0, index).Count('\n');

    private static IEnumerable<CodeSpan> CodeSpans(string prose) =>
        from block in Blocks(prose)
        from Match m in InlineCode().Matches(block.Text)
        select new CodeSpan(LineOf(block, m.Index), m.Groups["code"].Value);

    /// <summary>Inline links, images and link reference definitions outside code; inline code is blanked before matching.</summary>
    private static IEnumerable<Link> Links(string prose)
    {
        foreach (var block in Blocks(prose))
        {
            var text = InlineCode().Replace(block.Text, m => new string(m.Value.Select(c => c == '\n' ? '\n' : ' ').ToArray()));
            foreach (Match m in InlineLink().Matches(text))
                yield return new Link(LineOf(block, m.Index), block.Text.Substring(m.Groups["text"].Index, m.Groups["text"].Length), m.Groups["target"].Value);
            foreach (Match m in ReferenceDefinition().Matches(text))
                yield return new Link(LineOf(block, m.Index), m.Groups["label"].Value, m.Groups["target"].Value);
        }
    }

    /// <summary>A link with a scheme (https:, mailto:, …) or to another host (//host/…), or an empty one: nothing of the tree's.</summary>
    private static bool IsExternal(string target) => target.Length == 0 || target.StartsWith("//", StringComparison.Ordinal) || UrlScheme().IsMatch(target);

    /// <summary>Why <paramref name="target"/>, linked from <paramref name="doc"/>, does not resolve; null when it does.</summary>
    private static string? Unresolved(string doc, string target)
    {
        int hash = target.IndexOf('#');
        var pathPart = hash < 0 ? target : target[..hash];
        var fragment = hash < 0 ? "" : Uri.UnescapeDataString(target[(hash + 1)..]);
        int query = pathPart.IndexOf('?');
        if (query >= 0) pathPart = pathPart[..query];
        pathPart = Uri.UnescapeDataString(pathPart);

        string resolved;
        if (pathPart.Length == 0) resolved = doc;
        else
        {
            resolved = Path.GetFullPath(pathPart.StartsWith('/')
                ? Path.Combine(Root, pathPart.TrimStart('/'))
                : Path.Combine(Path.GetDirectoryName(doc)!, pathPart));
            if (resolved != Root && !resolved.StartsWith(Root + Path.DirectorySeparatorChar, StringComparison.Ordinal))
                return $"{resolved} is outside the repository";
            if (!File.Exists(resolved) && !Directory.Exists(resolved))
                return $"no file or folder {Relative(resolved)}";
        }

        if (fragment.Length == 0 || !resolved.EndsWith(".md", StringComparison.OrdinalIgnoreCase) || !File.Exists(resolved)) return null;
        var anchors = Anchors(resolved);
        return anchors.Contains(fragment.ToLowerInvariant())
            ? null
            : $"{Relative(resolved)} has no heading #{fragment} (its anchors: {string.Join(", ", anchors.Order(StringComparer.Ordinal))})";
    }

    /// <summary>The anchors of a Markdown file: its headings slugged as GitHub slugs them (repeats get -1, -2, …), and explicit &lt;a name/id&gt;.</summary>
    private static HashSet<string> Anchors(string markdownFile)
    {
        var lines = Prose(File.ReadAllText(markdownFile)).Split('\n');
        var anchors = new HashSet<string>(StringComparer.Ordinal);
        var seen = new Dictionary<string, int>(StringComparer.Ordinal);
        for (int i = 0; i < lines.Length; i++)
        {
            string? title = null;
            if (AtxHeading().Match(lines[i]) is { Success: true } atx) title = atx.Groups["title"].Value;
            else if (i > 0 && SetextUnderline().IsMatch(lines[i]) && lines[i - 1].Trim().Length > 0 && !BlockStart().IsMatch(lines[i - 1]))
                title = lines[i - 1];
            if (title is null) continue;
            var slug = Slug(title);
            int repeats = seen.GetValueOrDefault(slug);
            seen[slug] = repeats + 1;
            anchors.Add(repeats == 0 ? slug : $"{slug}-{repeats}");
        }
        foreach (Match m in HtmlAnchor().Matches(string.Join('\n', lines))) anchors.Add(m.Groups["id"].Value.ToLowerInvariant());
        return anchors;
    }

    /// <summary>
    /// GitHub's heading anchor: the rendered text (a link's text, no HTML tags) in lower case, every character but
    /// letters, digits, marks, '-' and '_' dropped, each space a '-'.
    /// </summary>
    private static string Slug(string heading)
    {
        var rendered = HtmlTag().Replace(InlineLink().Replace(heading, m => m.Groups["text"].Value), "");
        var slug = new StringBuilder();
        foreach (var c in rendered.Trim().ToLowerInvariant())
        {
            if (c == ' ') slug.Append('-');
            else if (char.IsLetterOrDigit(c) || c is '-' or '_') slug.Append(c);
            else if (CharUnicodeInfo.GetUnicodeCategory(c) is UnicodeCategory.NonSpacingMark or UnicodeCategory.SpacingCombiningMark or UnicodeCategory.EnclosingMark)
                slug.Append(c);
        }
        return slug.ToString();
    }

    /// <summary>A token that names a path of the repository: a top-level folder, '/', then a folder ('/' last) or a file.</summary>
    private static bool IsRepositoryPath(string token)
    {
        int slash = token.IndexOf('/');
        if (slash <= 0 || Array.IndexOf(TopLevelFolders, token[..slash]) < 0) return false;
        if (token.IndexOfAny(PatternCharacters) >= 0) return false;
        if (token.EndsWith('/')) return true;
        var extension = Path.GetExtension(token);
        return extension.Length == 0 || CitedExtensions.Contains(extension);
    }

    private static bool CitedPathExists(string token)
    {
        var path = Path.Combine(Root, token.TrimEnd('/'));
        if (token.EndsWith('/')) return Directory.Exists(path);
        return File.Exists(path) || (Path.GetExtension(token).Length == 0 && (Directory.Exists(path) || File.Exists(path + ".cs")));
    }

    /// <summary>An opening or closing code fence: three or more backticks or tildes, then an info string.</summary>
    [GeneratedRegex(@"^\s*(?<fence>`{3,}|~{3,})(?<info>.*)$")]
    private static partial Regex FenceLine();

    [GeneratedRegex(@"<!--.*?-->", RegexOptions.Singleline)]
    private static partial Regex HtmlComment();

    /// <summary>A line that starts a block of its own: a list item, a heading, a table row or a block quote.</summary>
    [GeneratedRegex(@"^\s*(?:[*+-]\s|\d+[.)]\s|#|\||>)")]
    private static partial Regex BlockStart();

    /// <summary>An inline code span: a run of backticks, the code, the same run again (CommonMark).</summary>
    [GeneratedRegex(@"(?<!`)(?<ticks>`+)(?!`)(?<code>.+?)(?<!`)\k<ticks>(?!`)", RegexOptions.Singleline)]
    private static partial Regex InlineCode();

    /// <summary>[text](target), ![alt](target), [text](&lt;target&gt;), each with an optional title.</summary>
    [GeneratedRegex("""!?\[(?<text>(?:[^\[\]]|\[[^\[\]]*\])*)\]\(\s*(?:<(?<target>[^<>\n]*)>|(?<target>[^\s()<>]*(?:\([^\s()]*\)[^\s()<>]*)*))(?:\s+(?:"[^"]*"|'[^']*'|\([^()]*\)))?\s*\)""")]
    private static partial Regex InlineLink();

    /// <summary>[label]: target — a link reference definition (not a footnote, [^label]:).</summary>
    [GeneratedRegex(@"^ {0,3}\[(?<label>[^\]\^][^\]]*)\]:[ \t]*(?:<(?<target>[^<>\n]*)>|(?<target>\S+))", RegexOptions.Multiline)]
    private static partial Regex ReferenceDefinition();

    [GeneratedRegex(@"^[A-Za-z][A-Za-z0-9+.\-]*:")]
    private static partial Regex UrlScheme();

    [GeneratedRegex(@"^ {0,3}#{1,6}(?:[ \t]+(?<title>.*?))?(?:[ \t]+#+)?[ \t]*$")]
    private static partial Regex AtxHeading();

    [GeneratedRegex(@"^ {0,3}(?:=+|-+)[ \t]*$")]
    private static partial Regex SetextUnderline();

    [GeneratedRegex("""<a\s[^>]*?\b(?:name|id)\s*=\s*["'](?<id>[^"']+)["']""", RegexOptions.IgnoreCase)]
    private static partial Regex HtmlAnchor();

    [GeneratedRegex(@"<[^>\n]+>")]
    private static partial Regex HtmlTag();
}
