// Descent's optional MPI binding (descent_mpi.node): MPI_Allreduce / MPI_Bcast / MPI_Barrier on
// MPI_COMM_WORLD, run on one communication thread so the JS thread keeps computing (DDP overlaps
// the all-reduce of a gradient bucket with the rest of backward). MPI is initialised with
// MPI_THREAD_SERIALIZED: the JS thread calls MPI_Init_thread and MPI_Finalize, and in between
// only the communication thread calls MPI, one job at a time in submission order (every rank
// submits the same collectives in the same order, which is what MPI requires of collectives).
// JS submits a job with start(...) -> id and collects it with wait(id), which blocks until the
// job is done; the typed array a job works on is held by a napi reference until then.
// Errors: MPI_COMM_WORLD keeps MPI's default handler (MPI_ERRORS_ARE_FATAL): a dead peer makes
// mpirun abort the whole job rather than leave the others waiting; a rank that exits with an
// error calls abort(), which does the same.

#include <mpi.h>
#include <node_api.h>

#include <condition_variable>
#include <cstdint>
#include <cstring>
#include <deque>
#include <mutex>
#include <string>
#include <thread>
#include <unordered_map>

namespace {

enum Kind { kAllReduce = 0, kBroadcast = 1, kBarrier = 2 };

struct Job {
  Kind kind;
  void* ptr = nullptr;
  int count = 0;
  MPI_Datatype dtype = MPI_FLOAT;
  int op = 0;  // 0 sum, 1 mean, 2 max, 3 min
  int root = 0;
  napi_ref ref = nullptr;
  int rc = MPI_SUCCESS;
  bool done = false;
};

std::mutex mu;
std::condition_variable work_cv, done_cv;
std::deque<Job*> queue;
std::unordered_map<int64_t, Job*> jobs;
int64_t next_id = 1;
bool stopping = false;
// A pointer, never destroyed unless joined: a std::thread destroyed while joinable (at exit()
// after an uncaught exception) would call std::terminate.
std::thread* comm = nullptr;
int world_rank = 0, world_size = 1, thread_level = 0;
bool initialised = false, finalised = false;

void run_job(Job* j) {
  if (j->kind == kBarrier) {
    j->rc = MPI_Barrier(MPI_COMM_WORLD);
  } else if (j->kind == kBroadcast) {
    j->rc = MPI_Bcast(j->ptr, j->count, j->dtype, j->root, MPI_COMM_WORLD);
  } else {
    MPI_Op op = j->op == 2 ? MPI_MAX : j->op == 3 ? MPI_MIN : MPI_SUM;
    j->rc = MPI_Allreduce(MPI_IN_PLACE, j->ptr, j->count, j->dtype, op, MPI_COMM_WORLD);
    if (j->rc == MPI_SUCCESS && j->op == 1) {
      // mean: the sum over ranks divided by their number (floating dtypes only; JS checks).
      if (j->dtype == MPI_FLOAT) {
        float* p = static_cast<float*>(j->ptr);
        const float inv = 1.0f / static_cast<float>(world_size);
        for (int i = 0; i < j->count; i++) p[i] *= inv;
      } else {
        double* p = static_cast<double*>(j->ptr);
        const double inv = 1.0 / static_cast<double>(world_size);
        for (int i = 0; i < j->count; i++) p[i] *= inv;
      }
    }
  }
}

void comm_loop() {
  for (;;) {
    Job* j;
    {
      std::unique_lock<std::mutex> lock(mu);
      work_cv.wait(lock, [] { return stopping || !queue.empty(); });
      if (queue.empty()) return;  // stopping with nothing left to do
      j = queue.front();
      queue.pop_front();
    }
    run_job(j);
    {
      std::lock_guard<std::mutex> lock(mu);
      j->done = true;
    }
    done_cv.notify_all();
  }
}

void shutdown() {
  if (!initialised || finalised) return;
  {
    std::lock_guard<std::mutex> lock(mu);
    stopping = true;
  }
  work_cv.notify_all();
  if (comm) {
    comm->join();
    delete comm;
    comm = nullptr;
  }
  MPI_Finalize();
  finalised = true;
}

napi_value throw_error(napi_env env, const std::string& msg) {
  napi_throw_error(env, nullptr, msg.c_str());
  return nullptr;
}

napi_value make_int(napi_env env, int64_t v) {
  napi_value out;
  napi_create_int64(env, v, &out);
  return out;
}

// init() -> [rank, size, providedThreadLevel]; a second call returns the same.
napi_value Init(napi_env env, napi_callback_info) {
  if (finalised) return throw_error(env, "distributed.init: MPI was already finalised in this process");
  if (!initialised) {
    int already = 0;
    MPI_Initialized(&already);
    if (!already) {
      int provided = 0;
      if (MPI_Init_thread(nullptr, nullptr, MPI_THREAD_SERIALIZED, &provided) != MPI_SUCCESS)
        return throw_error(env, "distributed.init: MPI_Init_thread failed");
      thread_level = provided;
      if (provided < MPI_THREAD_SERIALIZED) {
        MPI_Finalize();
        finalised = true;
        return throw_error(env, "distributed.init: this MPI provides thread level " + std::to_string(provided) +
                                    ", below MPI_THREAD_SERIALIZED, which the communication thread needs");
      }
    }
    MPI_Comm_rank(MPI_COMM_WORLD, &world_rank);
    MPI_Comm_size(MPI_COMM_WORLD, &world_size);
    initialised = true;
    comm = new std::thread(comm_loop);
  }
  napi_value arr;
  napi_create_array_with_length(env, 3, &arr);
  napi_set_element(env, arr, 0, make_int(env, world_rank));
  napi_set_element(env, arr, 1, make_int(env, world_size));
  napi_set_element(env, arr, 2, make_int(env, thread_level));
  return arr;
}

// start(kind, typedArray | null, op, root) -> job id
napi_value Start(napi_env env, napi_callback_info info) {
  if (!initialised || finalised) return throw_error(env, "distributed: call distributed.init() first");
  size_t argc = 4;
  napi_value argv[4];
  napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr);
  int32_t kind = 0, op = 0, root = 0;
  napi_get_value_int32(env, argv[0], &kind);
  napi_get_value_int32(env, argv[2], &op);
  napi_get_value_int32(env, argv[3], &root);
  Job* j = new Job();
  j->kind = static_cast<Kind>(kind);
  j->op = op;
  j->root = root;
  if (kind != kBarrier) {
    napi_typedarray_type type;
    size_t length = 0;
    void* data = nullptr;
    if (napi_get_typedarray_info(env, argv[1], &type, &length, &data, nullptr, nullptr) != napi_ok) {
      delete j;
      return throw_error(env, "distributed: expected a typed array");
    }
    if (type == napi_float32_array) j->dtype = MPI_FLOAT;
    else if (type == napi_float64_array) j->dtype = MPI_DOUBLE;
    else if (type == napi_int32_array) j->dtype = MPI_INT;
    else {
      delete j;
      return throw_error(env, "distributed: only Float32Array, Float64Array and Int32Array are supported");
    }
    j->ptr = data;
    j->count = static_cast<int>(length);
    napi_create_reference(env, argv[1], 1, &j->ref);
  }
  int64_t id;
  {
    std::lock_guard<std::mutex> lock(mu);
    id = next_id++;
    jobs[id] = j;
    queue.push_back(j);
  }
  work_cv.notify_one();
  return make_int(env, id);
}

// wait(id): blocks until the job is done; throws when MPI returned an error.
napi_value Wait(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr);
  int64_t id = 0;
  napi_get_value_int64(env, argv[0], &id);
  Job* j;
  {
    std::unique_lock<std::mutex> lock(mu);
    auto it = jobs.find(id);
    if (it == jobs.end()) return throw_error(env, "distributed: wait on an unknown or finished job " + std::to_string(id));
    j = it->second;
    done_cv.wait(lock, [j] { return j->done; });
    jobs.erase(it);
  }
  if (j->ref) napi_delete_reference(env, j->ref);
  const int rc = j->rc;
  delete j;
  if (rc != MPI_SUCCESS) {
    char text[MPI_MAX_ERROR_STRING];
    int len = 0;
    MPI_Error_string(rc, text, &len);
    return throw_error(env, std::string("distributed: MPI error: ") + std::string(text, len));
  }
  return nullptr;
}

napi_value Finalize(napi_env env, napi_callback_info) {
  shutdown();
  return nullptr;
}

// abort(code): MPI_Abort on MPI_COMM_WORLD, which makes mpirun end every rank (JS calls it when
// this process exits with a non-zero code, so the others do not wait for it forever).
napi_value Abort(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr);
  int32_t code = 1;
  napi_get_value_int32(env, argv[0], &code);
  if (initialised && !finalised) MPI_Abort(MPI_COMM_WORLD, code);
  return nullptr;
}

napi_value Register(napi_env env, napi_value exports) {
  napi_property_descriptor props[] = {
      {"init", nullptr, Init, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"start", nullptr, Start, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"wait", nullptr, Wait, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"finalize", nullptr, Finalize, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"abort", nullptr, Abort, nullptr, nullptr, nullptr, napi_default, nullptr},
  };
  napi_define_properties(env, exports, sizeof(props) / sizeof(props[0]), props);
  // Finalise MPI when Node tears the environment down, so mpirun sees a clean exit.
  napi_add_env_cleanup_hook(env, [](void*) { shutdown(); }, nullptr);
  return exports;
}

}  // namespace

NAPI_MODULE(NODE_GYP_MODULE_NAME, Register)
