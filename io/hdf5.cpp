// Checked HDF5 calls and compound tables.
#include "io/hdf5.hpp"

#include <algorithm>

#include <fmt/format.h>

#include "base/error.hpp"

namespace cs::io::h5 {

Handle::Handle(hid_t id, herr_t (*close)(hid_t), const std::string& what) : id_(id), close_(close) {
  if (id < 0) throw IoError(fmt::format("HDF5: {} failed", what));
}

Handle& Handle::operator=(Handle&& other) noexcept {
  if (this != &other) {
    reset();
    id_ = other.id_;
    close_ = other.close_;
    other.id_ = H5I_INVALID_HID;
  }
  return *this;
}

void Handle::reset() noexcept {
  if (id_ >= 0 && close_) close_(id_);
  id_ = H5I_INVALID_HID;
}

void check(herr_t status, const std::string& what) {
  if (status < 0) throw IoError(fmt::format("HDF5: {} failed", what));
}

void silence_error_stack() { H5Eset_auto2(H5E_DEFAULT, nullptr, nullptr); }

std::string library_version() {
  unsigned major = 0, minor = 0, release = 0;
  check(H5get_libversion(&major, &minor, &release), "H5get_libversion");
  return fmt::format("hdf5 {}.{}.{}", major, minor, release);
}

namespace {
std::size_t size_of(const Column& c) {
  switch (c.type) {
    case ColumnType::kInt64: return 8;
    case ColumnType::kInt32: return 4;
    case ColumnType::kFloat64: return 8;
    case ColumnType::kString: return c.str_len;
  }
  return 0;
}

Handle string_type(std::size_t len) {
  Handle t(H5Tcopy(H5T_C_S1), H5Tclose, "H5Tcopy");
  check(H5Tset_size(t.get(), len), "H5Tset_size");
  check(H5Tset_strpad(t.get(), H5T_STR_NULLTERM), "H5Tset_strpad");
  return t;
}

Handle vlen_string_type() {
  Handle t(H5Tcopy(H5T_C_S1), H5Tclose, "H5Tcopy");
  check(H5Tset_size(t.get(), H5T_VARIABLE), "H5Tset_size");
  check(H5Tset_cset(t.get(), H5T_CSET_UTF8), "H5Tset_cset");
  return t;
}

void write_string_array_attribute(hid_t object, const std::string& name, const std::vector<std::string>& values) {
  std::vector<const char*> ptrs;
  for (const auto& v : values) ptrs.push_back(v.c_str());
  const hsize_t n = values.size();
  Handle space(H5Screate_simple(1, &n, nullptr), H5Sclose, "H5Screate_simple");
  Handle type = vlen_string_type();
  Handle attr(H5Acreate2(object, name.c_str(), type.get(), space.get(), H5P_DEFAULT, H5P_DEFAULT), H5Aclose,
              "creating attribute " + name);
  check(H5Awrite(attr.get(), type.get(), ptrs.data()), "writing attribute " + name);
}
}  // namespace

Table::Table(std::vector<Column> columns) : columns_(std::move(columns)) {
  for (const auto& c : columns_) {
    // Keep 8-byte fields aligned; strings pack anywhere.
    const std::size_t align = c.type == ColumnType::kString ? 1 : size_of(c);
    row_size_ = (row_size_ + align - 1) / align * align;
    offsets_.push_back(row_size_);
    row_size_ += size_of(c);
  }
  row_size_ = (row_size_ + 7) / 8 * 8;
}

std::size_t Table::column_index(const std::string& name) const {
  for (std::size_t i = 0; i < columns_.size(); ++i) {
    if (columns_[i].name == name) return i;
  }
  throw IoError(fmt::format("the results file has no column '{}'", name));
}

void Table::add_row() { resize_rows(rows_ + 1); }

void Table::resize_rows(std::size_t rows) {
  rows_ = rows;
  bytes_.resize(rows_ * row_size_, std::byte{0});
}

void Table::set(std::size_t col, std::int64_t v) {
  std::byte* p = cell(rows_ - 1, col);
  if (columns_[col].type == ColumnType::kInt32) {
    const auto v32 = static_cast<std::int32_t>(v);
    std::memcpy(p, &v32, 4);
  } else if (columns_[col].type == ColumnType::kFloat64) {
    set(col, static_cast<double>(v));
  } else {
    std::memcpy(p, &v, 8);
  }
}

void Table::set(std::size_t col, double v) { std::memcpy(cell(rows_ - 1, col), &v, 8); }

void Table::set(std::size_t col, const std::string& v) {
  const std::size_t n = std::min(v.size(), columns_[col].str_len - 1);
  std::byte* p = cell(rows_ - 1, col);
  std::memset(p, 0, columns_[col].str_len);
  std::memcpy(p, v.data(), n);
}

std::int64_t Table::get_int(std::size_t row, std::size_t col) const {
  if (columns_[col].type == ColumnType::kInt32) {
    std::int32_t v = 0;
    std::memcpy(&v, cell(row, col), 4);
    return v;
  }
  if (columns_[col].type == ColumnType::kFloat64) return static_cast<std::int64_t>(get_double(row, col));
  std::int64_t v = 0;
  std::memcpy(&v, cell(row, col), 8);
  return v;
}

double Table::get_double(std::size_t row, std::size_t col) const {
  if (columns_[col].type != ColumnType::kFloat64) return static_cast<double>(get_int(row, col));
  double v = 0;
  std::memcpy(&v, cell(row, col), 8);
  return v;
}

std::string Table::get_string(std::size_t row, std::size_t col) const {
  const char* p = reinterpret_cast<const char*>(cell(row, col));
  return std::string(p, strnlen(p, columns_[col].str_len));
}

Handle Table::make_type() const {
  Handle type(H5Tcreate(H5T_COMPOUND, std::max<std::size_t>(row_size_, 1)), H5Tclose, "H5Tcreate");
  for (std::size_t i = 0; i < columns_.size(); ++i) {
    const auto& c = columns_[i];
    hid_t member = H5T_NATIVE_DOUBLE;
    Handle str;
    if (c.type == ColumnType::kInt64) member = H5T_NATIVE_INT64;
    if (c.type == ColumnType::kInt32) member = H5T_NATIVE_INT32;
    if (c.type == ColumnType::kString) {
      str = string_type(c.str_len);
      member = str.get();
    }
    check(H5Tinsert(type.get(), c.name.c_str(), offsets_[i], member), "H5Tinsert " + c.name);
  }
  return type;
}

TableWriter::TableWriter(hid_t parent, const std::string& name, std::vector<Column> columns)
    : name_(name), columns_(std::move(columns)), type_(Table(columns_).make_type()) {
  const hsize_t dims = 0;
  const hsize_t max_dims = H5S_UNLIMITED;
  const hsize_t chunk = 1024;
  Handle space(H5Screate_simple(1, &dims, &max_dims), H5Sclose, "H5Screate_simple");
  Handle props(H5Pcreate(H5P_DATASET_CREATE), H5Pclose, "H5Pcreate");
  check(H5Pset_chunk(props.get(), 1, &chunk), "H5Pset_chunk");
  check(H5Pset_deflate(props.get(), 1), "H5Pset_deflate");
  dataset_ = Handle(H5Dcreate2(parent, name.c_str(), type_.get(), space.get(), H5P_DEFAULT, props.get(), H5P_DEFAULT),
                    H5Dclose, "creating dataset " + name);
  std::vector<std::string> units;
  for (const auto& c : columns_) units.push_back(c.units);
  write_string_array_attribute(dataset_.get(), "units", units);
}

void TableWriter::append(const Table& rows) {
  if (rows.columns().size() != columns_.size()) {
    throw IoError(
        fmt::format("internal: appending {} columns to the {} of '{}'", rows.columns().size(), columns_.size(), name_));
  }
  const hsize_t n = rows.rows();
  if (n == 0) return;
  const hsize_t size = rows_ + n;
  check(H5Dset_extent(dataset_.get(), &size), "extending " + name_);
  Handle file_space(H5Dget_space(dataset_.get()), H5Sclose, "H5Dget_space");
  check(H5Sselect_hyperslab(file_space.get(), H5S_SELECT_SET, &rows_, nullptr, &n, nullptr), "H5Sselect_hyperslab");
  Handle memory_space(H5Screate_simple(1, &n, nullptr), H5Sclose, "H5Screate_simple");
  check(H5Dwrite(dataset_.get(), type_.get(), memory_space.get(), file_space.get(), H5P_DEFAULT, rows.data()),
        "writing " + name_);
  rows_ = size;
}

void write_table(hid_t parent, const std::string& name, const Table& table) {
  TableWriter writer(parent, name, table.columns());
  writer.append(table);
}

Table read_table(hid_t parent, const std::string& name) {
  if (H5Lexists(parent, name.c_str(), H5P_DEFAULT) <= 0) {
    throw IoError(fmt::format("the results file has no dataset '{}'", name));
  }
  Handle dataset(H5Dopen2(parent, name.c_str(), H5P_DEFAULT), H5Dclose, "opening " + name);
  Handle file_type(H5Dget_type(dataset.get()), H5Tclose, "H5Dget_type");
  if (H5Tget_class(file_type.get()) != H5T_COMPOUND) throw IoError(fmt::format("'{}' is not a table", name));
  std::vector<Column> columns;
  const int n = H5Tget_nmembers(file_type.get());
  for (int i = 0; i < n; ++i) {
    char* member_name = H5Tget_member_name(file_type.get(), static_cast<unsigned>(i));
    Column c;
    c.name = member_name;
    H5free_memory(member_name);
    Handle member(H5Tget_member_type(file_type.get(), static_cast<unsigned>(i)), H5Tclose, "H5Tget_member_type");
    const auto cls = H5Tget_class(member.get());
    const std::size_t size = H5Tget_size(member.get());
    if (cls == H5T_STRING) {
      c.type = ColumnType::kString;
      c.str_len = size;
    } else if (cls == H5T_INTEGER) {
      c.type = size == 4 ? ColumnType::kInt32 : ColumnType::kInt64;
    } else if (cls == H5T_FLOAT) {
      c.type = ColumnType::kFloat64;
    } else {
      throw IoError(fmt::format("column '{}' of '{}' has an unsupported type", c.name, name));
    }
    columns.push_back(std::move(c));
  }
  const auto units = read_string_array_attribute(dataset.get(), "units");
  for (std::size_t i = 0; i < columns.size() && i < units.size(); ++i) columns[i].units = units[i];
  Table table(std::move(columns));
  Handle space(H5Dget_space(dataset.get()), H5Sclose, "H5Dget_space");
  hsize_t dims = 0;
  if (H5Sget_simple_extent_ndims(space.get()) != 1) throw IoError(fmt::format("'{}' is not one-dimensional", name));
  check(H5Sget_simple_extent_dims(space.get(), &dims, nullptr), "H5Sget_simple_extent_dims");
  // deflate expands by at most about 1032:1, so a row count that needs more memory than that
  // of the bytes stored is a corrupt header, not data: refuse it before allocating.
  const double stored_bytes = static_cast<double>(H5Dget_storage_size(dataset.get()));
  const double wanted_bytes = static_cast<double>(dims) * static_cast<double>(table.row_size());
  if (wanted_bytes > 1100.0 * stored_bytes + (1 << 20)) {
    throw IoError(fmt::format("'{}' claims {} rows, more than its {} stored bytes can hold (a corrupt file)", name,
                              dims, stored_bytes));
  }
  table.resize_rows(static_cast<std::size_t>(dims));
  if (dims > 0) {
    Handle mem_type = table.make_type();
    check(H5Dread(dataset.get(), mem_type.get(), H5S_ALL, H5S_ALL, H5P_DEFAULT, table.data()), "reading " + name);
  }
  return table;
}

void write_string_attribute(hid_t object, const std::string& name, const std::string& value) {
  Handle space(H5Screate(H5S_SCALAR), H5Sclose, "H5Screate");
  Handle type = vlen_string_type();
  Handle attr(H5Acreate2(object, name.c_str(), type.get(), space.get(), H5P_DEFAULT, H5P_DEFAULT), H5Aclose,
              "creating attribute " + name);
  const char* p = value.c_str();
  check(H5Awrite(attr.get(), type.get(), &p), "writing attribute " + name);
}

void write_int_attribute(hid_t object, const std::string& name, std::int64_t value) {
  Handle space(H5Screate(H5S_SCALAR), H5Sclose, "H5Screate");
  Handle attr(H5Acreate2(object, name.c_str(), H5T_STD_I64LE, space.get(), H5P_DEFAULT, H5P_DEFAULT), H5Aclose,
              "creating attribute " + name);
  check(H5Awrite(attr.get(), H5T_NATIVE_INT64, &value), "writing attribute " + name);
}

namespace {
Handle open_attribute(hid_t object, const std::string& name) {
  if (H5Aexists(object, name.c_str()) <= 0) throw IoError(fmt::format("the results file has no attribute '{}'", name));
  return Handle(H5Aopen(object, name.c_str(), H5P_DEFAULT), H5Aclose, "opening attribute " + name);
}
}  // namespace

std::string read_string_attribute(hid_t object, const std::string& name) {
  auto values = read_string_array_attribute(object, name);
  if (values.size() != 1) throw IoError(fmt::format("attribute '{}' is not a single string", name));
  return values.front();
}

std::vector<std::string> read_string_array_attribute(hid_t object, const std::string& name) {
  Handle attr = open_attribute(object, name);
  Handle type(H5Aget_type(attr.get()), H5Tclose, "H5Aget_type");
  if (H5Tget_class(type.get()) != H5T_STRING || H5Tis_variable_str(type.get()) <= 0) {
    throw IoError(fmt::format("attribute '{}' is not text", name));
  }
  Handle space(H5Aget_space(attr.get()), H5Sclose, "H5Aget_space");
  const hssize_t n = H5Sget_simple_extent_npoints(space.get());
  if (n < 0) throw IoError(fmt::format("attribute '{}' has no extent", name));
  std::vector<char*> ptrs(static_cast<std::size_t>(n), nullptr);
  Handle mem = vlen_string_type();
  check(H5Aread(attr.get(), mem.get(), ptrs.data()), "reading attribute " + name);
  std::vector<std::string> out;
  for (char* p : ptrs) out.emplace_back(p ? p : "");
  H5Dvlen_reclaim(mem.get(), space.get(), H5P_DEFAULT, ptrs.data());
  return out;
}

std::int64_t read_int_attribute(hid_t object, const std::string& name) {
  Handle attr = open_attribute(object, name);
  std::int64_t value = 0;
  check(H5Aread(attr.get(), H5T_NATIVE_INT64, &value), "reading attribute " + name);
  return value;
}

}  // namespace cs::io::h5
