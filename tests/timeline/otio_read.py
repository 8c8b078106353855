"""Reads a .otio file with the opentimelineio package and prints what it understood as JSON:
the timeline's name, start and rate, and each clip of its video track in order, with its
range, where it sits in the track, its media (resolved against the .otio file) and its
pixbatch metadata. tests/timeline.rs compares this with what export wrote."""

import json
import os
import sys

import opentimelineio as otio

path = sys.argv[1]
timeline = otio.adapters.read_from_file(path)
tracks = list(timeline.tracks)
assert len(tracks) == 1, f"one track, got {len(tracks)}"
track = tracks[0]
clips = []
for clip in track:
    assert isinstance(clip, otio.schema.Clip), f"only clips on the track, got {clip!r}"
    ref = clip.media_reference
    assert isinstance(ref, otio.schema.ExternalReference), ref
    source, placed = clip.source_range, clip.range_in_parent()
    clips.append(
        {
            "name": clip.name,
            "rate": source.duration.rate,
            "start_frames": source.start_time.value,
            "duration_frames": source.duration.value,
            "seconds": source.duration.to_seconds(),
            "record_in_frames": placed.start_time.value,
            "target_url": ref.target_url,
            "media_exists": os.path.isfile(os.path.join(os.path.dirname(path), ref.target_url)),
            "pixbatch": dict(clip.metadata["pixbatch"]),
        }
    )
print(
    json.dumps(
        {
            "otio_version": otio.__version__,
            "name": timeline.name,
            "kind": track.kind,
            "global_start_seconds": timeline.global_start_time.to_seconds(),
            "duration_seconds": timeline.duration().to_seconds(),
            "clips": clips,
        }
    )
)
