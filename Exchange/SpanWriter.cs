// A callback that fills a span.
namespace DistClip.Exchange;

/// <summary>Writes into <paramref name="destination"/> (a span cannot be the type argument of an <see cref="Action{T}"/>).</summary>
public delegate void SpanWriter<T>(Span<T> destination);
