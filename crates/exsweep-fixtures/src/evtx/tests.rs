//! Unit tests of the writer's internals; behaviour as read back by the `evtx` crate is tested in
//! `tests/evtx_writer.rs`.

use super::*;
use std::io::Cursor;

fn event(i: usize) -> EventSpec {
    EventSpec {
        provider: "MSExchange ADAccess".into(),
        event_id: 2080,
        qualifiers: Some(16388),
        level: 4,
        keywords: 0x80_0000_0000_0000,
        time_ms: 1_700_000_000_000 + i as i64,
        channel: "Application".into(),
        computer: "EX01.contoso.local".into(),
        data: EventData::Unnamed(vec![format!("value {i}"); 40]),
        ..Default::default()
    }
}

#[test]
fn chunk_limit_is_storage_full_and_leaves_a_valid_file() {
    let mut writer = EvtxWriter::new(Cursor::new(Vec::new())).unwrap();
    writer.max_chunks = 3;
    let mut written = 0u64;
    let err = loop {
        match writer.write(&event(written as usize)) {
            Ok(id) => {
                written += 1;
                assert_eq!(id, written);
            }
            Err(err) => break err,
        }
    };
    assert_eq!(err.kind(), io::ErrorKind::StorageFull);
    assert_eq!(writer.chunk_count(), 3);
    // It keeps refusing, and writes nothing more.
    assert_eq!(writer.write(&event(0)).unwrap_err().kind(), io::ErrorKind::StorageFull);
    let bytes = writer.finish().unwrap().into_inner();
    assert_eq!(bytes.len(), FILE_HEADER_SIZE + 3 * CHUNK_SIZE);
    assert_eq!(u16::from_le_bytes([bytes[42], bytes[43]]), 3);
    assert_eq!(u64::from_le_bytes(bytes[24..32].try_into().unwrap()), written + 1);
}

#[test]
fn header_fields_and_checksum() {
    let mut writer = EvtxWriter::new(Cursor::new(Vec::new())).unwrap();
    assert_eq!(writer.chunk_count(), 0);
    assert_eq!(writer.bytes_written(), 4096);
    writer.write(&event(0)).unwrap();
    assert_eq!(writer.chunk_count(), 1);
    assert_eq!(writer.bytes_written(), 4096 + 65536);
    let bytes = writer.finish().unwrap().into_inner();
    assert_eq!(&bytes[0..8], b"ElfFile\0");
    assert_eq!(u32::from_le_bytes(bytes[124..128].try_into().unwrap()), crc32fast::hash(&bytes[..120]));
    assert_eq!(&bytes[4096..4104], b"ElfChnk\0");
    let chunk = &bytes[4096..];
    let free = u32::from_le_bytes(chunk[48..52].try_into().unwrap()) as usize;
    assert_eq!(u32::from_le_bytes(chunk[52..56].try_into().unwrap()), crc32fast::hash(&chunk[512..free]));
    // The record ends where the free space starts, with a copy of its size.
    let size = u32::from_le_bytes(chunk[516..520].try_into().unwrap()) as usize;
    assert_eq!(512 + size, free);
    assert_eq!(&chunk[free - 4..free], &chunk[516..520]);
}

#[test]
fn empty_writer_is_a_header_only_file() {
    let bytes = EvtxWriter::new(Cursor::new(Vec::new())).unwrap().finish().unwrap().into_inner();
    assert_eq!(bytes.len(), 4096);
    assert_eq!(u16::from_le_bytes([bytes[42], bytes[43]]), 0);
    assert_eq!(u64::from_le_bytes(bytes[24..32].try_into().unwrap()), 1);
}

#[test]
fn writer_starts_at_the_stream_position() {
    let mut cursor = Cursor::new(vec![0xaa; 10]);
    cursor.seek(SeekFrom::End(0)).unwrap();
    let mut writer = EvtxWriter::new(cursor).unwrap();
    writer.write(&event(0)).unwrap();
    let mut cursor = writer.finish().unwrap();
    assert_eq!(cursor.stream_position().unwrap(), 10 + 4096 + 65536);
    let bytes = cursor.into_inner();
    assert_eq!(&bytes[..10], &[0xaa; 10]);
    assert_eq!(&bytes[10..18], b"ElfFile\0");
}

#[test]
fn same_shape_shares_one_template_per_chunk() {
    let mut writer = EvtxWriter::new(Cursor::new(Vec::new())).unwrap();
    for i in 0..5 {
        writer.write(&event(i)).unwrap();
    }
    let bytes = writer.finish().unwrap().into_inner();
    let chunk = &bytes[4096..4096 + 65536];
    let templates: Vec<u32> = (0..32)
        .map(|i| u32::from_le_bytes(chunk[384 + i * 4..388 + i * 4].try_into().unwrap()))
        .filter(|&o| o != 0)
        .collect();
    assert_eq!(templates.len(), 1);
    // Every record's instance points at that one definition.
    let mut at = 512;
    for _ in 0..5 {
        let size = u32::from_le_bytes(chunk[at + 4..at + 8].try_into().unwrap()) as usize;
        assert_eq!(chunk[at + 28], 0x0c);
        let def = u32::from_le_bytes(chunk[at + 34..at + 38].try_into().unwrap());
        assert_eq!(def, templates[0]);
        at += size;
    }
}

#[test]
fn oversized_system_strings_are_invalid_input() {
    let mut writer = EvtxWriter::new(Cursor::new(Vec::new())).unwrap();
    let huge = "x".repeat(40_000);
    for event in [
        EventSpec { computer: huge.clone(), ..event(0) },
        EventSpec { event_source_name: Some(huge.clone()), ..event(0) },
        EventSpec { data: EventData::Unnamed(vec![huge.clone()]), ..event(0) },
    ] {
        assert_eq!(writer.write(&event).unwrap_err().kind(), io::ErrorKind::InvalidInput);
    }
    assert_eq!(writer.chunk_count(), 0);
    assert_eq!(writer.write(&event(0)).unwrap(), 1);
}
