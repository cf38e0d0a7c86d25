//! Re-encodes weights whose quantization has no SIMD kernel in Candle.
//!
//! Candle 0.11 multiplies Q4_0, Q8_0 and the K-quants with AVX2 (and
//! AVX-512 VNNI), but Q4_1, Q5_0 and Q5_1 only with scalar loops, several
//! times slower. Small models are often shipped in those formats (the test
//! model is Q4_1), so at load their tensors are converted to Q8_0, which
//! represents a 4- or 5-bit block exactly up to rounding of the scale, at
//! ~1.7× the memory. Big files are left alone: the copy would cost too much.

use std::io::{Cursor, Read, Seek};

use candle_core::Device;
use candle_core::quantized::gguf_file::{self, Content};
use candle_core::quantized::{GgmlDType, QTensor};

/// Above this size (after conversion) the slow kernels are kept.
const MAX_CONVERTED_BYTES: u64 = 2 << 30;

fn is_slow(dtype: GgmlDType) -> bool {
    matches!(dtype, GgmlDType::Q4_1 | GgmlDType::Q5_0 | GgmlDType::Q5_1)
}

/// A GGUF in memory with its slow tensors as Q8_0, or `None` when nothing
/// needs (or can afford) converting.
pub(crate) fn requantize_slow_tensors<R: Read + Seek>(
    content: &Content,
    reader: &mut R,
) -> candle_core::Result<Option<(Content, Cursor<Vec<u8>>)>> {
    let slow: Vec<&String> = content
        .tensor_infos
        .iter()
        .filter(|(_, info)| is_slow(info.ggml_dtype))
        .map(|(name, _)| name)
        .collect();
    if slow.is_empty() {
        return Ok(None);
    }
    let converted_bytes: u64 = content
        .tensor_infos
        .values()
        .map(|info| {
            let elements = info.shape.elem_count() as u64;
            if is_slow(info.ggml_dtype) {
                elements * 34 / 32
            } else {
                elements * info.ggml_dtype.type_size() as u64 / info.ggml_dtype.block_size() as u64
            }
        })
        .sum();
    if converted_bytes > MAX_CONVERTED_BYTES {
        tracing::info!(
            tensors = slow.len(),
            converted_bytes,
            "GGUF uses quantizations without SIMD kernels; too large to convert, inference will be slow"
        );
        return Ok(None);
    }
    let mut tensors: Vec<(String, QTensor)> = Vec::with_capacity(content.tensor_infos.len());
    for (name, info) in &content.tensor_infos {
        let tensor = content.tensor(reader, name, &Device::Cpu)?;
        let last_dim = info.shape.dims().last().copied().unwrap_or(0);
        let tensor = if is_slow(info.ggml_dtype) && last_dim % GgmlDType::Q8_0.block_size() == 0 {
            QTensor::quantize(&tensor.dequantize(&Device::Cpu)?, GgmlDType::Q8_0)?
        } else {
            tensor
        };
        tensors.push((name.clone(), tensor));
    }
    // The writer pads to its own default alignment; a custom
    // `general.alignment` would make the reader look in the wrong place.
    let metadata: Vec<(&str, &gguf_file::Value)> = content
        .metadata
        .iter()
        .filter(|(key, _)| key.as_str() != "general.alignment")
        .map(|(key, value)| (key.as_str(), value))
        .collect();
    let tensor_refs: Vec<(&str, &QTensor)> = tensors
        .iter()
        .map(|(name, tensor)| (name.as_str(), tensor))
        .collect();
    let mut buffer = Cursor::new(Vec::new());
    gguf_file::write(&mut buffer, &metadata, &tensor_refs)?;
    drop(tensors);
    buffer.set_position(0);
    let converted = Content::read(&mut buffer)?;
    tracing::debug!(tensors = slow.len(), "converted slow quantizations to Q8_0");
    Ok(Some((converted, buffer)))
}
