/* Shared pieces of the CPython binding (the only place that includes Python.h). */
#ifndef MT_PY_H
#define MT_PY_H

#define PY_SSIZE_T_CLEAN
#include <Python.h>

#include "../ops/ops.h"
#include "../autograd/autograd.h"

typedef struct {
    PyObject_HEAD
    mt_tensor *t; /* owned */
} PyTensor;

extern PyTypeObject PyTensorBase_Type;
extern PyTypeObject *mt_tensor_class; /* minitorch.Tensor, the Python subclass instances are made of */
extern PyObject *mt_size_class;       /* minitorch.Size */
extern PyObject *mt_dtype_objs[MT_NUM_DTYPES];
extern PyObject *mt_device_class;     /* minitorch.device */

#define PyTensor_Check(o) PyObject_TypeCheck(o, &PyTensorBase_Type)
#define T(o) (((PyTensor *)(o))->t)

/* Wraps t, stealing the reference; returns the existing wrapper when there is one. NULL t -> error. */
PyObject *mt_py_wrap(mt_tensor *t);
/* Raises the pending core error as the matching Python exception; returns NULL. */
PyObject *mt_py_raise(void);
int mt_py_raise_int(void);

/* ---- argument conversion ---- */
bool mt_py_is_scalar(PyObject *o);
int mt_py_scalar(PyObject *o, mt_scalar *s);             /* -1 + TypeError if not a number */
int mt_py_dtype(PyObject *o, mt_dtype *d);               /* minitorch dtype object */
PyObject *mt_py_dtype_obj(mt_dtype d);                   /* borrowed */
int mt_py_device(PyObject *o, mt_device *d);             /* str, device, int or None (-> CPU) */
PyObject *mt_py_device_obj(mt_device d);                 /* new ref */
/* the mt_generator of a minitorch.Generator for a tensor on dev; NULL for None (the default one).
   *err = -1 with a TypeError / RuntimeError set for anything else or another device type. */
struct mt_generator *mt_py_generator(PyObject *o, mt_device dev, int *err);
/* Ints from an int, a sequence of ints, or varargs (args[start:]); returns count or -1. */
int mt_py_int_list(PyObject *o, int64_t *out, int max, const char *what);
int mt_py_shape_args(PyObject *args, int start, int64_t *out, const char *what);
/* where()'s condition c: torch's deprecation UserWarning (once a process, as TORCH_WARN_ONCE) for a uint8 one;
   -1 when the warning is raised as an error */
int mt_py_where_cond_warn(const mt_tensor *c);
/* Converts to a tensor: tensor (borrowed -> new ref) or anything torch.tensor accepts. */
mt_tensor *mt_py_as_tensor(PyObject *o, const mt_tensor *like);
/* New ref to <package>.sub (sub NULL: the package itself), the package being the one whose Tensor class was
 * registered: "minitorch", or the name it was imported under (a program that finds it as `torch`); importing
 * "minitorch" by name there would load a second copy of the Python layer. */
PyObject *mt_py_import(const char *sub);
PyObject *mt_py_size(const int64_t *shape, int ndim);

/* ---- nodes ---- */
PyObject *mt_py_node(mt_node *n); /* new wrapper or None */
typedef struct { PyObject_HEAD mt_node *n; } PyNode; /* grad_fn objects */
extern PyTypeObject PyNode_Type;

/* ---- pieces defined in other binding files ---- */
PyMethodDef *mt_py_build_methods(void); /* methods.c: declared ops + hand-written methods */
PyObject *mt_py_op_manifest(void);      /* methods.c: minitorch._C._ops */
extern PyMethodDef mt_module_functions[];
int mt_py_init_autograd(PyObject *m);
PyObject *mt_py_getitem(PyObject *self, PyObject *index);
int mt_py_setitem(PyObject *self, PyObject *index, PyObject *value);

#endif
